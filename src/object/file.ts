/**
 * Opening object files from disk (Node only: the rest of src/object runs in
 * a browser too and takes bytes).
 */
import { readFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { TsbpfError, type Errno } from '../errors.js';
import { objectNameFromPath } from './maps.js';
import { readObject, type ReadObjectOptions } from './reader.js';
import type { CollectionSpec } from './spec.js';

function fsError(path: string, e: unknown): TsbpfError {
  const code = (e as { code?: string }).code;
  const errno: Errno = code === 'ENOENT' ? 'ENOENT' : code === 'EACCES' ? 'EACCES' : 'EINVAL';
  return new TsbpfError(errno, `${path}: ${(e as Error).message}`, { cause: e });
}

/** Read and parse an object file; the object name comes from the file name, as libbpf derives it. */
export async function loadObjectFile(path: string, opts: ReadObjectOptions = {}): Promise<CollectionSpec> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (e) {
    throw fsError(path, e);
  }
  return readObject(bytes, { name: objectNameFromPath(path), ...opts });
}

export function loadObjectFileSync(path: string, opts: ReadObjectOptions = {}): CollectionSpec {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw fsError(path, e);
  }
  return readObject(bytes, { name: objectNameFromPath(path), ...opts });
}
