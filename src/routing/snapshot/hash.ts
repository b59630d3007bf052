/** 32-bit hashes for seeding and ordering: murmur3's finaliser, FNV-1a over a string, and a seed mix. Pure. */
/** murmur3's finaliser: spreads every input bit over the whole word. */
export function fmix32 (value: number): number {
  let h = value
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  h ^= h >>> 16
  return h >>> 0
}

/**
 * FNV-1a over UTF-16 code units, finished with fmix32: FNV alone leaves Call-IDs that differ in
 * their last character close together in the low bits, which would correlate the first draws.
 */
export function hashString (text: string): number {
  let h = 0x811c9dc5
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i)
    h = Math.imul(h, 0x01000193)
  }
  return fmix32(h)
}

/** Combines a seed with a key (one murmur3 block and the finaliser), e.g. the call's seed with a carrier's id hash. */
export function mixSeed (seed: number, key: number): number {
  let k = Math.imul(key, 0xcc9e2d51)
  k = (k << 15) | (k >>> 17)
  k = Math.imul(k, 0x1b873593)
  let h = seed ^ k
  h = (h << 13) | (h >>> 19)
  h = (Math.imul(h, 5) + 0xe6546b64) | 0
  return fmix32(h)
}
