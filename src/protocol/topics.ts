/** Topic patterns (`sync.session.*`) and subscription filters. */
import { invalid } from './errors.js';
import { type JsonPrimitive, describe, hasOwn, isPlainObject } from './json.js';

/** Dot-separated segments, each a name or a whole-segment `*`. */
const TOPIC_RE = /^([\w-]+|\*)(\.([\w-]+|\*))*$/;

/** Throws `invalid` unless `topic` is dot-separated segments, each a name or `*`. */
export function assertTopic(topic: unknown): asserts topic is string {
  if (typeof topic !== 'string' || topic.length > 256 || !TOPIC_RE.test(topic)) {
    throw invalid(`topic must be dot-separated names or "*" (e.g. sync.session.*), got ${JSON.stringify(topic) ?? String(topic)}`);
  }
}

/** True when `topic` matches `pattern`, where `*` stands for exactly one segment. */
export function topicMatches(pattern: string, topic: string): boolean {
  if (pattern === topic) return true;
  if (!pattern.includes('*')) return false;
  const p = pattern.split('.');
  const t = topic.split('.');
  return p.length === t.length && p.every((seg, i) => seg === '*' || seg === t[i]);
}

/** A subscription filter: `id` and `service` match the event's metadata, other keys top-level data fields. */
export type EventFilter = Record<string, JsonPrimitive>;

/** Throws `invalid` unless `filter` is an object of scalar values. */
export function assertFilter(filter: unknown): asserts filter is EventFilter {
  if (!isPlainObject(filter)) throw invalid(`filter must be an object of field: value pairs, got ${describe(filter)}`);
  const keys = Object.keys(filter);
  if (keys.length > 32) throw invalid('filter has more than 32 keys');
  for (const key of keys) {
    const v = filter[key];
    if (v !== null && typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') {
      throw invalid(`filter.${key} must be a string, number, boolean or null, got ${describe(v)}`);
    }
  }
}

/** True when every filter key matches (see {@link EventFilter}). */
export function filterMatches(
  filter: EventFilter | undefined,
  meta: { service: string; id: string },
  data: Record<string, unknown> | undefined,
): boolean {
  if (!filter) return true;
  for (const key of Object.keys(filter)) {
    const have = key === 'id' || key === 'service' ? meta[key] : data && hasOwn(data, key) ? data[key] : undefined;
    if (have !== filter[key]) return false;
  }
  return true;
}
