/**
 * `tsbpf map pin MAP FILE`, bpftool's, with MAP one of
 *   object OBJ name NAME   (or just `OBJ name NAME`): map NAME of object file
 *                          OBJ as loading creates it (global data and static
 *                          initialisers written, .rodata frozen), with the
 *                          object's BTF so `map dump` formats its entries;
 *   pinned SRC             a copy of another pin.
 * bpftool's MAP names a map the kernel holds (id, name, pinned); a tsbpf map
 * lives in the process that loads it, so an object file is where one comes from.
 */
import { TsbpfError } from '../../errors.js';
import { loadObjectFileSync } from '../../object/file.js';
import { Runtime } from '../../runtime/runtime.js';
import { CliUsageError } from '../args.js';
import { isJson, openPinPath, savePin } from './map-common.js';

export const usage = `Usage: tsbpf map pin { object OBJ name NAME | OBJ name NAME | pinned SRC } FILE [-j]
  Pins map NAME of object file OBJ (its contents as loading creates them:
  global data, static initialisers; and the object's BTF, so that
  'tsbpf map dump pinned FILE' prints typed entries), or copies the pin SRC,
  at FILE (EEXIST if FILE exists).
`;

export async function run(argv: string[]): Promise<number> {
  const [json, w] = isJson(argv);
  if (w[0] === 'pinned') {
    if (w.length !== 3) throw new CliUsageError('expected pinned SRC FILE');
    const pm = openPinPath(w[1]!);
    try {
      savePin(pm.map, w[2]!, { exclusive: true, ...(pm.btf ? { btf: pm.btf } : {}) });
    } finally {
      pm.close();
    }
  } else {
    const words = w[0] === 'object' ? w.slice(1) : w;
    const [obj, nameWord, name, file, ...extra] = words;
    if (!obj || nameWord !== 'name' || !name || !file || extra.length) throw new CliUsageError('expected [object] OBJ name NAME FILE');
    const spec = loadObjectFileSync(obj);
    if (!spec.maps.has(name)) throw new TsbpfError('ENOENT', `no map '${name}' in ${obj} (it has: ${[...spec.maps.keys()].join(', ') || 'none'})`);
    const rt = new Runtime();
    try {
      // maps only: no program is verified or compiled
      const coll = await rt.load(spec, { programs: [] });
      savePin(coll.maps.get(name)!, file, { exclusive: true, ...(spec.btf ? { btf: spec.btf } : {}) });
    } finally {
      rt.close();
    }
  }
  if (json) process.stdout.write('null\n');
  return 0;
}
