/** Where tsbpf keeps what it caches for a user (Node only): the chunks' code caches (bundle.ts) and the kernel BTF's parse (btf-input.ts). */
import { homedir } from 'node:os';
import { join } from 'node:path';

/** $XDG_CACHE_HOME/tsbpf, else ~/.cache/tsbpf. */
export function userCacheBase(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'tsbpf');
}

/** FNV-1a of a string as 8 hex digits: a short file name for a longer key (node:crypto would cost its own start). */
export function fnv1a(s: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return (h >>> 0).toString(16).padStart(8, '0');
}
