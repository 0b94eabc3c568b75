/**
 * Category sync through Pluggy failures, end to end (real queue retries, delays and dead-letter queue):
 * - transient failures — 503 twice, 429 with a RateLimit-Reset, a timeout (an answer slower than the
 *   client's 15 s) — end `synced`, and Pluggy holds the mapped category;
 * - permanent errors (400, 404) end `failed` with Pluggy's reason, and Pluggy is unchanged;
 * - a job whose calls always fail goes through every retry into the dead-letter queue (`dead`), and
 *   once Pluggy recovers, `POST /api/admin/category-syncs/redrive/` brings it to `synced`.
 */
import { describe, expect, it } from "vitest";
import { adminHeaders, app, listAll, sim, uid, userHeaders, waitFor } from "./support/stack.ts";

type Tx = { id: string; pluggy_id: string; category_sync: { status: string; reason: string | null; attempts: number } | null };

describe("category sync through 503, 429, timeouts, permanent errors and the dead-letter queue", () => {
  it("ends synced, failed or dead as it should, and a redrive recovers the dead job", async () => {
    const simulator = sim();
    const userId = uid("rel-sync-user");
    const user = await userHeaders(userId);
    const admin = await adminHeaders();

    const created = await simulator.createItem({ clientUserId: userId, accounts: 1, transactionsPerAccount: 40 });
    const registered = await app("/api/banking/items/", { headers: user, json: { item_id: created.item.id } });
    expect(registered.status).toBe(201);
    const rows = await waitFor(
      "the item's first sync",
      async () => {
        const listed = await listAll<Tx>(`/api/banking/transactions/?item_id=${created.item.id}`, user);
        return listed.length === 40 ? listed : undefined;
      },
      120_000,
      500,
    );

    const mappings = await app<{ data: Array<{ category_id: string; pluggy_category_id: string | null }> }>("/api/admin/category-mappings/", { headers: admin });
    const target = mappings.body.data.find((m) => m.pluggy_category_id !== null);
    expect(target).toBeDefined();
    const category = target?.category_id ?? "";
    const pluggyCategory = target?.pluggy_category_id ?? "";

    const at = (i: number) => rows[i] as Tx;
    const path = (tx: Tx) => `^/transactions/${tx.pluggy_id}$`;
    const transient = [
      ...[0, 1, 2, 3, 4].map((i) => ({ tx: at(i), fault: { status: 503, times: 2 } })),
      ...[5, 6, 7].map((i) => ({ tx: at(i), fault: { status: 429, times: 1, rateLimitReset: 1 } })),
      ...[8, 9].map((i) => ({ tx: at(i), fault: { delayMs: 16_000, times: 1 } })),
      ...[10, 11].map((i) => ({ tx: at(i), fault: { status: 502, times: 3 } })),
    ];
    const permanent = [
      { tx: at(12), fault: { status: 400, times: 100 } },
      { tx: at(13), fault: { status: 404, times: 100 } },
    ];
    const doomed = at(14);
    const untouched = rows.slice(15);
    // Tagged: the simulator counts what each fault did, independently of the app's job rows.
    const tag = uid("rel-sync-faults");
    const faultOf = new Map<string, string>();
    for (const { tx, fault } of [...transient, ...permanent]) faultOf.set(tx.id, await simulator.fault({ path: path(tx), method: "PATCH", tag, ...fault }));
    const deadFault = await simulator.fault({ path: path(doomed), method: "PATCH", status: 503, times: 1_000, tag });

    const answers = await Promise.all(rows.map((tx) => app<{ data: Tx }>(`/api/banking/transactions/${tx.id}/`, { method: "PATCH", headers: user, json: { category } })));
    expect(answers.map((a) => a.status)).toEqual(rows.map(() => 200));
    expect(answers.every((a) => a.body.data.category_sync?.status === "pending")).toBe(true);

    const statusOf = async (tx: Tx) => (await app<{ data: Tx }>(`/api/banking/transactions/${tx.id}/`, { headers: user })).body.data.category_sync;
    const settled = await waitFor(
      "every job to leave pending",
      async () => {
        const all = await Promise.all(rows.map(async (tx) => ({ tx, sync: await statusOf(tx) })));
        return all.every((s) => s.sync && s.sync.status !== "pending") ? all : undefined;
      },
      180_000,
      1_000,
    );
    const byId = new Map(settled.map((s) => [s.tx.id, s.sync]));
    const pluggy = new Map((await simulator.itemState(created.item.id)).transactions.map((t) => [t.id, t.categoryId]));

    for (const { tx } of [...transient.map((t) => t), ...untouched.map((tx) => ({ tx }))]) {
      expect(byId.get(tx.id)?.status, `transaction ${tx.id}`).toBe("synced");
      expect(pluggy.get(tx.pluggy_id)).toBe(pluggyCategory);
    }
    for (const { tx } of transient) expect(byId.get(tx.id)?.attempts ?? 0).toBeGreaterThanOrEqual(2);
    for (const { tx } of permanent) {
      expect(byId.get(tx.id)?.status).toBe("failed");
      expect(byId.get(tx.id)?.reason).toBeTruthy();
      expect(pluggy.get(tx.pluggy_id)).not.toBe(pluggyCategory);
    }
    expect(byId.get(doomed.id)?.status).toBe("dead");
    expect(pluggy.get(doomed.pluggy_id)).not.toBe(pluggyCategory);

    // What the simulator applied and received, transaction by transaction: every transient fault used up
    // and then one successful PATCH; a permanent refusal met once (never retried); the dead job's every
    // delivery refused; every other change exactly one PATCH.
    const applied = new Map((await simulator.faults(tag)).data.map((f) => [f.id, f.hits]));
    const patches = async (tx: Tx) => (await simulator.requests({ path: path(tx), method: "PATCH" })).map((r) => r.status ?? 0);
    const seen: string[] = [];
    for (const { tx, fault } of transient) {
      const hits = applied.get(faultOf.get(tx.id) ?? "");
      const calls = await patches(tx);
      if (hits !== fault.times || calls.length !== fault.times + 1 || calls.at(-1) !== 200) seen.push(`transient ${tx.pluggy_id}: fault hits ${hits} of ${fault.times}, PATCHes ${calls.join(",")}`);
    }
    for (const { tx } of permanent) {
      const hits = applied.get(faultOf.get(tx.id) ?? "");
      const calls = await patches(tx);
      if (hits !== 1 || calls.length !== 1) seen.push(`permanent ${tx.pluggy_id}: fault hits ${hits}, PATCHes ${calls.join(",")}`);
    }
    const deadHits = applied.get(deadFault) ?? 0;
    expect(deadHits).toBe(byId.get(doomed.id)?.attempts);
    expect(await patches(doomed)).toEqual(Array.from({ length: deadHits }, () => 503));
    for (const tx of untouched) {
      const calls = await patches(tx);
      if (calls.length !== 1 || calls[0] !== 200) seen.push(`untouched ${tx.pluggy_id}: PATCHes ${calls.join(",")}`);
    }
    expect(seen).toEqual([]);

    // Pluggy recovers; the operator redrives the dead jobs.
    await simulator.clearFault(deadFault);
    const redrive = await app<{ data: Record<string, number> }>("/api/admin/category-syncs/redrive/", { headers: admin, json: { status: "dead" } });
    expect(redrive.status).toBe(202);
    await waitFor("the redriven job to sync", async () => ((await statusOf(doomed))?.status === "synced" ? true : undefined), 60_000, 500);
    expect((await simulator.itemState(created.item.id)).transactions.find((t) => t.id === doomed.pluggy_id)?.categoryId).toBe(pluggyCategory);
    expect(await patches(doomed)).toEqual([...Array.from({ length: deadHits }, () => 503), 200]);

    const counts = new Map<string, number>();
    for (const s of byId.values()) counts.set(s?.status ?? "none", (counts.get(s?.status ?? "none") ?? 0) + 1);
    console.log(
      `category sync through faults: ${rows.length} changes → ${[...counts].map(([s, n]) => `${s} ${n}`).join(", ")}; ` +
        `transient faults ${transient.length} (503×2, 429, 15 s timeout, 502×3), permanent ${permanent.length} (400, 404), dead 1 (${deadHits} deliveries refused) → redriven → synced; ` +
        `faults applied (simulator's count) ${[...applied.values()].reduce((a, b) => a + b, 0)}`,
    );
  });
});
