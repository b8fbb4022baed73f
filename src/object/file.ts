/**
 * Opening object files from disk (Node only: the rest of src/object runs in
 * a browser too and takes bytes).
 */
import { TsbpfError } from '../errors.js';
import { MAGIC, readBounded, readBoundedAsync, type ReadOptions } from '../bounded-read.js';
import { objectNameFromPath } from './maps.js';
import { readObject, type ReadObjectOptions } from './reader.js';
import type { CollectionSpec } from './spec.js';

/** An object file is read with the object limit; a stream that does not start as ELF is refused at once. */
const objectInput = (path: string): ReadOptions => ({
  kind: 'object',
  magic: { prefixes: [MAGIC.elf], error: () => new TsbpfError('ENOEXEC', `${path}: not an ELF file`) },
});

/** Read and parse an object file; the object name comes from the file name, as libbpf derives it. */
export async function loadObjectFile(path: string, opts: ReadObjectOptions = {}): Promise<CollectionSpec> {
  const bytes = await readBoundedAsync(path, objectInput(path));
  return readObject(bytes, { name: objectNameFromPath(path), ...opts });
}

export function loadObjectFileSync(path: string, opts: ReadObjectOptions = {}): CollectionSpec {
  const bytes = readBounded(path, objectInput(path));
  return readObject(bytes, { name: objectNameFromPath(path), ...opts });
}
