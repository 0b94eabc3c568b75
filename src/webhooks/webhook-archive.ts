import { sha256Hex } from "./verify-signature.ts";
import type { Services } from "../platform/services.ts";

type BucketDeps = Pick<Services, "bucket">;

/*
 * The R2 side of webhooks: where a raw body lives and how it is written. Bodies are stored as the
 * exact bytes Pluggy sent, never re-serialized, so the signature and `body_sha256` can be re-checked
 * at any time (replay, download, audit).
 */

/** R2 prefix of accepted deliveries: `events/YYYY/MM/DD/<eventId>.json`. */
export const EVENTS_PREFIX = "events/";
/** R2 prefix of signed deliveries that were not a valid event: `rejected/YYYY/MM/DD/<id>.json`. */
export const REJECTED_PREFIX = "rejected/";

function datePath(receivedAt: string): string {
  return `${receivedAt.slice(0, 4)}/${receivedAt.slice(5, 7)}/${receivedAt.slice(8, 10)}`;
}

/** Longest URI-encoded id kept readable in a key; R2 keys are at most 1024 bytes. */
const MAX_READABLE_KEY_ID = 512;

/**
 * Key of an accepted event's body: `events/YYYY/MM/DD/<URI-encoded eventId>.json`, the id encoded so a
 * `/` in it cannot invent folders. An id whose encoding would be longer than 512 characters (a 256-
 * character id of CJK text encodes to 2304) gets `events/YYYY/MM/DD/sha256/<hex of its UTF-8>.json`
 * instead: encoding never yields a `/`, so the two forms cannot collide. Intake refuses ids that
 * cannot be encoded (an unpaired surrogate), so this never throws for an accepted event.
 */
export async function eventArchiveKey(eventId: string, receivedAt: string): Promise<string> {
  const encoded = encodeURIComponent(eventId);
  if (encoded.length <= MAX_READABLE_KEY_ID) return `${EVENTS_PREFIX}${datePath(receivedAt)}/${encoded}.json`;
  return `${EVENTS_PREFIX}${datePath(receivedAt)}/sha256/${await sha256Hex(new TextEncoder().encode(eventId))}.json`;
}

/** Key of a rejected delivery's body. */
export function rejectedArchiveKey(id: string, receivedAt: string): string {
  return `${REJECTED_PREFIX}${datePath(receivedAt)}/${encodeURIComponent(id)}.json`;
}

export interface ArchivedBody {
  bytes: Uint8Array<ArrayBuffer>;
  sha256: string;
  contentType: string;
  matchedKey: string;
  receivedAt: string;
  requestId: string;
}

function putOptions(body: ArchivedBody): R2PutOptions {
  return {
    httpMetadata: { contentType: body.contentType },
    customMetadata: { sha256: body.sha256, matched_key: body.matchedKey, received_at: body.receivedAt, request_id: body.requestId },
    // R2 recomputes the digest and refuses the write if the bytes changed on the way.
    sha256: body.sha256,
  };
}

/**
 * Writes a body only if nothing is stored at `key` yet (R2's create-only `If-None-Match: *`), so a
 * duplicate delivery can never clobber the original bytes. Returns whether this call wrote.
 */
export async function putIfAbsent({ bucket }: BucketDeps, key: string, body: ArchivedBody): Promise<boolean> {
  const written = await bucket.put(key, body.bytes, { ...putOptions(body), onlyIf: { etagDoesNotMatch: "*" } });
  return written !== null;
}

/** Writes a body unconditionally (used only by the event row's owner to repair a mismatched copy). */
export async function putBody({ bucket }: BucketDeps, key: string, body: ArchivedBody): Promise<void> {
  await bucket.put(key, body.bytes, putOptions(body));
}

/** The sha256 a stored object was written with (custom metadata, else R2's own checksum), or undefined if absent. */
export async function storedSha256({ bucket }: BucketDeps, key: string): Promise<string | undefined> {
  const head = await bucket.head(key);
  if (!head) return undefined;
  const fromMetadata = head.customMetadata?.["sha256"];
  if (fromMetadata) return fromMetadata;
  const checksum = head.checksums.sha256;
  if (!checksum) return "";
  let hex = "";
  for (const byte of new Uint8Array(checksum)) hex += byte.toString(16).padStart(2, "0");
  return hex;
}
