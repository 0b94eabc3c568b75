/**
 * A closed-loop HTTP load generator on node:http with keep-alive: `concurrency` workers, each sending
 * its next request as soon as the previous answer is read, until `count` requests were sent or
 * `maxMs` elapsed — always bounded in both. Targets only loopback addresses.
 */
import http from "node:http";

export interface RequestSpec {
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
}

export interface LoadOptions {
  /** Base URL; must be http://127.0.0.1 or http://localhost. */
  baseUrl: string;
  concurrency: number;
  count: number;
  /** Hard stop even if `count` is not reached. */
  maxMs: number;
  /** Builds request number `i` (0-based). */
  request: (i: number) => RequestSpec;
  /** Keep answer bodies (for checks); default false. */
  keepBodies?: boolean;
}

export interface LoadResult {
  sent: number;
  /** Per-request latency in ms, in completion order. */
  latencies: number[];
  statuses: Map<number, number>;
  /** Transport errors (connection refused, reset, …). */
  errors: number;
  wallMs: number;
  bodies: string[];
}

const LOOPBACK = /^http:\/\/(127\.\d+\.\d+\.\d+|localhost)(:\d+)?$/;

/** One request; resolves with status and body (never rejects: transport errors come back as status 0). */
export function send(agent: http.Agent, baseUrl: string, spec: RequestSpec, timeoutMs = 30_000): Promise<{ status: number; body: string; ms: number }> {
  const url = new URL(spec.path, baseUrl);
  const started = performance.now();
  return new Promise((resolve) => {
    const headers: Record<string, string | number> = { ...spec.headers };
    if (spec.body !== undefined) headers["Content-Length"] = Buffer.byteLength(spec.body);
    const req = http.request(
      { agent, host: url.hostname, port: url.port, method: spec.method, path: `${url.pathname}${url.search}`, headers, timeout: timeoutMs },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8"), ms: performance.now() - started }));
        res.on("error", () => resolve({ status: 0, body: "", ms: performance.now() - started }));
      },
    );
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", () => resolve({ status: 0, body: "", ms: performance.now() - started }));
    if (spec.body !== undefined) req.write(spec.body);
    req.end();
  });
}

export function newAgent(concurrency: number): http.Agent {
  return new http.Agent({ keepAlive: true, maxSockets: concurrency, maxFreeSockets: concurrency });
}

/** Runs the load and returns every latency; the agent is closed afterwards. */
export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  if (!LOOPBACK.test(options.baseUrl)) throw new Error(`load target must be loopback, got ${options.baseUrl}`);
  const agent = newAgent(options.concurrency);
  const latencies: number[] = [];
  const statuses = new Map<number, number>();
  const bodies: string[] = [];
  let next = 0;
  let errors = 0;
  const started = performance.now();
  const deadline = started + options.maxMs;
  const worker = async () => {
    while (next < options.count && performance.now() < deadline) {
      const i = next++;
      const result = await send(agent, options.baseUrl, options.request(i));
      if (result.status === 0) errors++;
      latencies.push(result.ms);
      statuses.set(result.status, (statuses.get(result.status) ?? 0) + 1);
      if (options.keepBodies) bodies[i] = result.body;
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, worker));
  const wallMs = performance.now() - started;
  agent.destroy();
  return { sent: next, latencies, statuses, errors, wallMs, bodies };
}

/** Sequential requests (concurrency 1) of a few distinct kinds, interleaved A B C A B C… so drift hits all alike. */
export async function runInterleaved(baseUrls: Record<string, string>, specs: Record<string, RequestSpec>, rounds: number, maxMs: number): Promise<Record<string, number[]>> {
  const agents = Object.fromEntries(Object.keys(specs).map((name) => [name, newAgent(1)]));
  const out: Record<string, number[]> = Object.fromEntries(Object.keys(specs).map((name) => [name, []]));
  const deadline = performance.now() + maxMs;
  for (let round = 0; round < rounds && performance.now() < deadline; round++) {
    for (const [name, spec] of Object.entries(specs)) {
      const base = baseUrls[name];
      const agent = agents[name];
      if (!base || !agent) continue;
      const result = await send(agent, base, spec);
      if (result.status !== 200) throw new Error(`${name}: HTTP ${result.status} ${result.body.slice(0, 300)}`);
      out[name]?.push(result.ms);
    }
  }
  for (const agent of Object.values(agents)) agent.destroy();
  return out;
}
