/**
 * Typed ksyms and bpf_per_cpu_ptr / bpf_this_cpu_ptr (src/verifier/ksym.ts).
 * The recording kernel has no data symbols in kallsyms (no
 * CONFIG_KALLSYMS_ALL), so its recorded verdict on test/real-progs/ksym_*.c
 * is the lddw's "ldimm64 failed to find the address" (test/real-progs.test.ts
 * holds tsbpf to it); here the same programs are judged as a kernel with
 * those symbols judges them, verdicts and messages taken from
 * kernel/bpf/verifier.c (check_pseudo_btf_id, check_ptr_to_btf_access,
 * check_reg_type's percpu_btf_ptr_types, check_func_arg_reg_off, the
 * helpers' RET_PTR_TO_MEM_OR_BTF_ID | MEM_RDONLY) and against the
 * recording kernel's types (kernel.btf).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { verify } from '../src/verifier/index.js';
import { inputFromSpec } from '../src/verifier/spec-input.js';
import { loadObjectFileSync } from '../src/object/file.js';
import { assemble } from '../src/isa/asm/index.js';
import { Runtime } from '../src/runtime/index.js';
import { TsbpfError } from '../src/errors.js';
import { DIR, corpusKernelBtf } from './real-progs/corpus.js';

function judge(name: string, kernelSymbols?: (n: string) => boolean, logLevel: 0 | 2 = 0) {
  const coll = loadObjectFileSync(join(DIR, `${name}.o`));
  const k = corpusKernelBtf();
  return verify(inputFromSpec(coll, [...coll.programs.values()][0]!, { privileged: true, coreTarget: k, kernelBtf: k, logLevel, ...(kernelSymbols ? { kernelSymbols } : {}) }));
}

test('per-CPU ksyms: bpf_per_cpu_ptr (NULL-checked) and bpf_this_cpu_ptr of a struct and an int are accepted', () => {
  const r = judge('ksym_percpu', undefined, 2);
  assert.equal(r.ok, true, r.error?.kernelMessage);
  // the lddw of runqueues is a per-CPU pointer of struct rq; per_cpu_ptr's result may be NULL, this_cpu_ptr's not
  assert.match(r.log, /R1=percpu_ptr_rq\(\)/);
  assert.match(r.log, /R0=ptr_or_null_rq\(id=\d+\)/);
  assert.match(r.log, /R0=rdonly_mem_or_null\(id=\d+,sz=4\)/);
});

test('per-CPU ksyms: what a kernel with the symbols refuses, with its messages', () => {
  const cases: Array<[string, string]> = [
    ['ksym_percpu_direct', 'R1 is ptr_rq access percpu memory: off=4'],
    ['ksym_per_cpu_unchecked', "R0 invalid mem access 'ptr_or_null_'"],
    ['ksym_this_cpu_write', 'R0 cannot write into rdonly_mem'],
    ['ksym_per_cpu_offset', 'dereference of modified percpu_ptr_ ptr R1 off=4 disallowed'],
    ['ksym_per_cpu_not_percpu', 'R1 type=fp expected=percpu_ptr_, percpu_rcu_ptr_, percpu_trusted_ptr_'],
  ];
  for (const [name, msg] of cases) {
    const r = judge(name);
    assert.equal(r.ok, false, name);
    assert.equal(r.error!.errno, 'EACCES', name);
    assert.equal(r.error!.kernelMessage, msg, name);
  }
});

test('a ksym without an address in kallsyms is refused at its lddw, as the recording kernel does', () => {
  const r = judge('ksym_percpu', () => false);
  assert.equal(r.ok, false);
  assert.equal(r.error!.errno, 'ENOENT');
  assert.equal(r.error!.kernelMessage, "ldimm64 failed to find the address for kernel symbol 'runqueues'.");
  assert.equal(judge('ksym_percpu', (n) => n === 'runqueues' || n === 'bpf_prog_active').ok, true);
});

test('a ksym the kernel BTF lacks is libbpf\'s error; without the kernel BTF it is unsupported, not a verdict', () => {
  const r = judge('ksym_missing');
  assert.equal(r.error!.errno, 'ESRCH');
  assert.equal(r.error!.kernelMessage, "extern (var ksym) 'tsbpf_no_such_percpu_var': not found in kernel BTF");
  const coll = loadObjectFileSync(join(DIR, 'ksym_percpu.o'));
  const shipped = verify(inputFromSpec(coll, [...coll.programs.values()][0]!, { privileged: true, coreTarget: corpusKernelBtf() }));
  assert.equal(shipped.error!.errno, 'ENOTSUPP');
  assert.match(shipped.error!.kernelMessage, /ksym 'runqueues' .* needs the kernel's BTF/);
});

test('a raw lddw of a BTF id: a VAR or FUNC of the kernel BTF, else the kernel\'s refusal', () => {
  const k = corpusKernelBtf();
  const runqueues = k.typeByName('runqueues', 'var')!.id;
  const rq = k.typeByName('rq', 'struct')!.id;
  const prog = (id: number) => assemble(`r1 = 0 ll\nr0 = 0\nexit`).map((ins, i) => (i === 0 ? { ...ins, src: 3, imm: id } : ins));
  assert.equal(verify({ insns: prog(runqueues), progType: 'raw_tracepoint', kernelBtf: k }).ok, true);
  const notVar = verify({ insns: prog(rq), progType: 'raw_tracepoint', kernelBtf: k });
  assert.equal(notVar.error!.kernelMessage, `pseudo btf_id ${rq} in ldimm64 isn't KIND_VAR or KIND_FUNC`);
  const bad = verify({ insns: prog(k.length + 5), progType: 'raw_tracepoint', kernelBtf: k });
  assert.equal(bad.error!.errno, 'ENOENT');
  assert.equal(bad.error!.kernelMessage, `ldimm64 insn specifies invalid btf_id ${k.length + 5}.`);
});

test('at run time a ksym is refused with ENOTSUPP naming it (tsbpf has no kernel variables)', async () => {
  using rt = new Runtime({ kernelBtf: corpusKernelBtf() });
  await assert.rejects(rt.load(loadObjectFileSync(join(DIR, 'ksym_percpu.o'))), (e: unknown) => {
    assert.ok(e instanceof TsbpfError);
    assert.equal(e.errno, 'ENOTSUPP');
    assert.match(e.message, /ksym runqueues/);
    return true;
  });
});
