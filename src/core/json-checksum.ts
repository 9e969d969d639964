import { xxh64 } from '@node-rs/xxhash';
import { RetinaError } from './errors.js';

/**
 * Self-describing checksums for the JSON files retina writes and reads back (shard.json,
 * manifest.json, the feature cache's meta.json). The field `checksum` holds
 * `xxh64:<16 hex digits>`: xxh64 (seed 0) of the UTF-8 bytes of the canonical JSON of the object
 * without its `checksum` key. Canonical JSON: object keys sorted (by UTF-16 code unit), no
 * whitespace, strings and numbers as ECMAScript's JSON.stringify writes them. Because the digest
 * covers the parsed values, not the bytes, a file can be re-indented and still check, while any
 * change to a value, key or structure fails. In Python:
 * `json.dumps(body, sort_keys=True, separators=(',', ':'), ensure_ascii=False)` gives the same
 * text for every value retina writes (integers, short decimals, ASCII and non-ASCII strings).
 */

export const CHECKSUM_FIELD = 'checksum';
const PREFIX = 'xxh64:';
const FORM = /^xxh64:[0-9a-f]{16}$/;

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Key-order-independent JSON (see the module comment). */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (isObj(v)) {
    return `{${Object.keys(v)
      .filter((k) => v[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson(v[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}

/** The checksum of `body` (its `checksum` key, if any, excluded). */
export function jsonChecksum(body: Obj): string {
  const { [CHECKSUM_FIELD]: _ignored, ...rest } = body;
  return PREFIX + xxh64(canonicalJson(rest)).toString(16).padStart(16, '0');
}

/** `body` with its checksum as the last key (recomputed if it had one). */
export function withJsonChecksum<T extends object>(body: T): T & { checksum: string } {
  const { [CHECKSUM_FIELD]: _old, ...rest } = body as Obj;
  return { ...rest, [CHECKSUM_FIELD]: jsonChecksum(rest) } as T & { checksum: string };
}

/**
 * Check the checksum of a parsed JSON object read from `file`.
 * - `'ok'`: it carries a checksum and the values match it.
 * - `'legacy'`: no checksum, and only keys of `legacyKeys` (a file written before checksums
 *   existed; the caller decides how far to trust it). Without `legacyKeys`, a missing checksum is
 *   damage.
 * Throws CORRUPT (naming the file) for a checksum that does not match, is malformed, or is missing
 * from an object with keys that no checksum-less version ever wrote (a flipped key name).
 */
export function checkJsonChecksum(body: unknown, file: string, opts: { legacyKeys?: readonly string[]; hint?: string; shard?: number } = {}): 'ok' | 'legacy' {
  const location = { file, ...(opts.shard === undefined ? {} : { shard: opts.shard }) };
  const hint = opts.hint ?? 'The file was damaged or edited by hand; rewrite it with the command that made it.';
  if (!isObj(body)) throw new RetinaError('CORRUPT', `${file}: expected a JSON object`, { location, hint });
  const stated = body[CHECKSUM_FIELD];
  if (stated === undefined) {
    const legacy = opts.legacyKeys;
    const unknown = legacy ? Object.keys(body).filter((k) => !legacy.includes(k)) : [];
    if (legacy && unknown.length === 0) return 'legacy';
    throw new RetinaError(
      'CORRUPT',
      `${file} has no "${CHECKSUM_FIELD}" field${
        unknown.length
          ? ` and unexpected keys ${unknown
              .slice(0, 3)
              .map((k) => JSON.stringify(k))
              .join(', ')}`
          : ''
      }: it cannot be trusted`,
      { location, hint },
    );
  }
  if (typeof stated !== 'string' || !FORM.test(stated)) {
    throw new RetinaError(
      'CORRUPT',
      `${file}: expected "${CHECKSUM_FIELD}" of the form xxh64:<16 hex digits> but found ${JSON.stringify(stated)?.slice(0, 40)}`,
      { location, hint },
    );
  }
  const actual = jsonChecksum(body);
  if (actual !== stated) {
    throw new RetinaError('CORRUPT', `${file} fails its checksum (its values hash to ${actual}, the file says ${stated}): it was damaged or edited`, {
      location,
      hint,
    });
  }
  return 'ok';
}
