/**
 * Node-only conveniences: open an object file from disk and load it into a
 * runtime in one call (the rest of src/runtime runs in a browser too).
 */
import { loadObjectFile } from '../object/file.js';
import { Runtime, type Collection, type LoadOptions, type RuntimeOptions } from './runtime.js';

/** Read `path` and load it into `runtime` (or a new Runtime made from options). */
export async function loadCollectionFile(path: string, runtime: Runtime | RuntimeOptions = {}, opts: LoadOptions = {}): Promise<Collection> {
  const rt = runtime instanceof Runtime ? runtime : new Runtime(runtime);
  const spec = await loadObjectFile(path);
  return rt.load(spec, opts);
}
