import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { categories, metricCounters } from "../../src/db/schema.ts";
import { isReadStatement } from "../../src/platform/catalog-counter.ts";
import type { AppBindings } from "../../src/platform/env.ts";
import { servicesFor } from "../../src/platform/services.ts";
import { body, callWithEnv } from "../helpers/http.ts";

const PATH = "/api/__bench/catalog-statements";
const benchEnv = { BENCH_COUNT_CATALOG: "true" } as Partial<AppBindings>;
const noWait = { waitUntil: () => undefined };

async function counts(): Promise<{ reads: number; writes: number; batches: number }> {
  const response = await callWithEnv(PATH, {}, benchEnv);
  expect(response.status).toBe(200);
  return (await body<{ data: { reads: number; writes: number; batches: number } }>(response)).data;
}

describe("bench catalog counting (BENCH_COUNT_CATALOG)", () => {
  it("has no counts route without the variable", async () => {
    const response = await callWithEnv(PATH, {}, {});
    expect(response.status).toBe(404);
    expect((await body(response)).error.code).toBe("not_found");
  });

  it("leaves the catalog binding untouched without the variable", async () => {
    const before = await counts();
    const services = servicesFor(env as AppBindings, noWait);
    await services.catalog.select().from(categories).limit(1);
    expect(await counts()).toEqual(before);
  });

  it("counts each statement as a read or a write, and a batch per statement", async () => {
    const services = servicesFor({ ...(env as AppBindings), BENCH_COUNT_CATALOG: "true" } as AppBindings, noWait);
    const before = await counts();
    await services.catalog.select().from(categories).limit(1);
    expect(await counts()).toEqual({ ...before, reads: before.reads + 1 });

    const key = `bench-counter-${crypto.randomUUID()}`;
    await services.catalog.batch([services.catalog.insert(metricCounters).values({ bucket: "bench", name: key, count: 1 }), services.catalog.select().from(categories).limit(1)]);
    expect(await counts()).toEqual({ reads: before.reads + 2, writes: before.writes + 1, batches: before.batches + 1 });
  });

  it("classifies SQL texts", () => {
    expect(isReadStatement("select 1")).toBe(true);
    expect(isReadStatement("  /* c */ SELECT * FROM t")).toBe(true);
    expect(isReadStatement("with x as (select 1) select * from x")).toBe(true);
    expect(isReadStatement("with x as (select 1) insert into t select * from x")).toBe(false);
    expect(isReadStatement("insert into t values (1)")).toBe(false);
    expect(isReadStatement("update t set a = 1")).toBe(false);
  });
});
