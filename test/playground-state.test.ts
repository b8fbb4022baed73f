/**
 * The playground's shareable URL (playground/src/lib/url-state.ts) and its
 * reader of the verifier log (playground/src/lib/verifier-log.ts).
 */
import { test } from 'node:test';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './paths.js';
import assert from 'node:assert/strict';
import { decodeState, encodeState, normalizeState, DEFAULT_STATE, type PlaygroundState } from '../playground/src/lib/url-state.js';
import { parseVerifierLog, pathInsns, stateTokens } from '../playground/src/lib/verifier-log.js';

test('a state survives the link', async () => {
  const s: PlaygroundState = {
    ...DEFAULT_STATE, example: 'bpf2bpf', program: 'count_protocols', asm: 'prog:\n    r0 = 2\n    exit\n'.repeat(50),
    input: 'hex', hex: '01 02 03', repeat: 77, packet: { ...DEFAULT_STATE.packet, l4: 'tcp', dport: 443 },
    mapEdits: [{ map: 'blocklist', key: '0a 00 00 01', value: '01' }, { map: 'blocklist', key: '0a 00 00 02' }],
  };
  const hash = await encodeState(s);
  assert.match(hash, /^#s=[A-Za-z0-9_-]+$/);
  assert.ok(hash.length < JSON.stringify(s).length, 'compressed');
  const back = await decodeState(hash);
  assert.equal(back.error, undefined);
  assert.deepEqual(back.state, s);
});

test('a damaged or foreign link gives the defaults and a reason, never a throw', async () => {
  assert.deepEqual(await decodeState(''), { state: normalizeState({}) });
  const foreign = await decodeState('#section-2');
  assert.match(foreign.error ?? '', /does not hold a playground state/);
  const damaged = await decodeState('#s=AAAA!!');
  assert.match(damaged.error ?? '', /damaged/);
  assert.equal(damaged.state.example, DEFAULT_STATE.example);
  // Fields of the wrong type or range fall back one by one.
  const n = normalizeState({ example: 5, repeat: -3, packet: { l3: 'ipx', sport: 99999, dst: '10.9.9.9' }, mapEdits: [{ map: 1 }, { map: 'm', key: '00' }] });
  assert.equal(n.example, DEFAULT_STATE.example);
  assert.equal(n.repeat, DEFAULT_STATE.repeat);
  assert.equal(n.packet.l3, 'ipv4');
  assert.equal(n.packet.sport, DEFAULT_STATE.packet.sport);
  assert.equal(n.packet.dst, '10.9.9.9');
  assert.deepEqual(n.mapEdits, [{ map: 'm', key: '00' }]);
});

const LOG = `0: R1=ctx() R10=fp0
; int f(struct xdp_md *ctx) @ f.c:3
0: (61) r2 = *(u32 *)(r1 +4)          ; R1=ctx() R2=pkt_end()
1: (bf) r3 = r10                      ; R3=fp0 R10=fp0
2: (63) *(u32 *)(r10 -4) = r1         ; R1=scalar(smin=0,smax=umax=0xffffffff,var_off=(0x0; 0xffffffff)) R10=fp0 fp-8=mmmm????
3: (85) call bpf_map_lookup_elem#1    ; R0=map_value_or_null(id=1,map=m,ks=4,vs=8)
4: (85) call pc+2
caller:
 R0=map_value_or_null(id=1,map=m,ks=4,vs=8) R10=fp0
callee:
 frame1: R1=ctx() R10=fp0
7: (b7) r0 = 0                        ; frame1: R0=0
8: (95) exit
returning from callee:
 frame1: R0=0 R1=ctx() R10=fp0
to caller at 5:
 R0=0 R10=fp0
5: (15) if r0 == 0x0 goto pc+1        ; R0=0
6: (95) exit

from 5 to 7: R0=1 R10=fp0
7: (b7) r0 = 2                        ; R0=2
from 5 to 7: safe
`;

test('the log read back into states per instruction', () => {
  assert.deepEqual(stateTokens('R1=scalar(smin=0,var_off=(0x0; 0xff)) fp-8=mmmm????'), [['R1', 'scalar(smin=0,var_off=(0x0; 0xff))'], ['fp-8', 'mmmm????']]);
  const v = parseVerifierLog(LOG);
  const at0 = v.get(0)![0]!;
  assert.deepEqual(at0.before.regs, [['R1', 'ctx()'], ['R10', 'fp0']]);
  assert.deepEqual(at0.after.regs, [['R1', 'ctx()'], ['R2', 'pkt_end()'], ['R10', 'fp0']]);
  const at2 = v.get(2)![0]!;
  assert.deepEqual(at2.after.stack, [['fp-8', 'mmmm????']]);
  // A helper call clobbers R1-R5.
  const call = v.get(3)![0]!.after;
  assert.deepEqual(call.regs.map(([k]) => k), ['R0', 'R10']);
  // The callee's instructions are in frame 1; back in the caller, frame 0.
  assert.equal(v.get(7)![0]!.before.frame, 1);
  assert.deepEqual(v.get(7)![0]!.after.regs, [['R0', '0'], ['R1', 'ctx()'], ['R10', 'fp0']]);
  assert.equal(v.get(5)![0]!.before.frame, 0);
  assert.deepEqual(v.get(5)![0]!.before.regs, [['R0', '0'], ['R10', 'fp0']]);
  // The second walk of insn 7 starts from the branch's state.
  assert.equal(v.get(7)!.length, 2);
  assert.deepEqual(v.get(7)![1]!.before.regs, [['R0', '1'], ['R10', 'fp0']]);
  assert.deepEqual(pathInsns(['5: if r3 > r2 goto pc+4 -> not taken, to insn 6', '  16: if r4 > r3 goto pc+5 -> taken']), [5, 16]);
});

test('the page imports no Node API (it runs in browsers only)', () => {
  const files = readdirSync(join(ROOT, 'playground/src'), { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts'));
  assert.ok(files.length > 5);
  for (const f of files) {
    const text = readFileSync(join(ROOT, 'playground/src', f), 'utf8');
    assert.doesNotMatch(text, /from ['"](node:|fs|path|os|child_process|worker_threads)['"/]/, f);
    assert.doesNotMatch(text, /\bprocess\.|\bBuffer\./, f);
  }
});
