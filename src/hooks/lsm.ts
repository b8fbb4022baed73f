/**
 * Policy hooks in the style of BPF LSM: programs that may refuse an
 * operation of the application by returning a negative errno, which the
 * operation then fails with (an Error with `code` 'EPERM', 'EACCES', ...,
 * `errno` negative, and `syscall`, as Node's own system errors).
 *
 *   hook             operations                                       ctx (u64 args, BPF_PROG-style)
 *   file_open        fs.open, fs.openSync, fs.promises.open            (const char *path, int flags, int mode)
 *   socket_connect   net.Socket#connect (net.connect, http clients)    (int family, const char *host, int port)
 *   task_spawn       child_process spawn, exec, execFile (+Sync)       (const char *file, int argc)
 *
 * Programs: the context is an array of u64 arguments, as BPF LSM and
 * raw_tracepoint programs receive (libbpf's BPF_PROG macro reads it); since
 * tsbpf's verifier has no BTF-typed `lsm` program type, policy programs are
 * `raw_tracepoint` programs (SEC("raw_tp/file_open")). Strings are copied
 * into the address space for the call (bpf_probe_read_user_str reads them).
 * Several programs run in attach order; the first negative return decides.
 *
 * Installing patches the functions on the module objects (and calls
 * module.syncBuiltinESMExports so `import { open } from 'node:fs'` sees
 * them too) on first attach, and restores them on last detach. Limits: it
 * sees only calls that go through those functions — fs.readFile,
 * fs.createReadStream, fs.readFileSync and other helpers that open files
 * inside Node's internals are not covered, nor are references captured
 * before the attach; spawn refusals throw synchronously (Node reports its
 * own spawn failures asynchronously on the ChildProcess); connect refusals
 * are reported asynchronously as an 'error' on the socket, like Node's.
 */
import fs from 'node:fs';
import net from 'node:net';
import cp from 'node:child_process';
import { syncBuiltinESMExports } from 'node:module';
import { ERRNO_VALUES, TsbpfError } from '../errors.js';
import type { Program } from '../runtime/runtime.js';
import type { AddressSpace, Region } from '../memory/address-space.js';
import { HookPoint, memOf, type Link } from './link.js';

/** MAX_BPF_FUNC_ARGS u64 slots, what raw_tracepoint programs may read. */
const CTX_SIZE = 12 * 8;

const errnoNames = new Map<number, string>(Object.entries(ERRNO_VALUES).map(([k, v]) => [v, k]));

/** The error an operation refused with errno `e` (positive) fails with, as Node shapes system errors. */
function policyError(e: number, syscall: string, what: string): NodeJS.ErrnoException {
  const code = errnoNames.get(e) ?? `E${e}`;
  const err = new Error(`${code}: operation refused by policy program, ${syscall} '${what}'`) as NodeJS.ErrnoException;
  err.code = code;
  err.errno = -e;
  err.syscall = syscall;
  return err;
}

type Arg = number | bigint | string | undefined;

/** A policy hook: run the programs on the operation's arguments, return the errno to fail with (positive) or 0. */
export class PolicyHook extends HookPoint {
  /** operations refused */
  denied = 0;
  /**
   * What an operation does when a program's run fails (a fault, or a run
   * past the runtime's runDeadline: RunDeadlineExceeded): 'deny' (default)
   * refuses it with EPERM, as a policy that could not decide must not let
   * the operation through; 'allow' lets the remaining programs decide. Either
   * way the failure is counted on the link (errors, lastError).
   */
  onError: 'deny' | 'allow' = 'deny';
  private faultVerdict = 0;
  constructor(
    readonly hookName: string,
    install: () => void,
    uninstall: () => void,
  ) {
    super(`lsm/${hookName}`, ['raw_tracepoint', 'lsm'], CTX_SIZE, install, uninstall);
  }

  check(args: readonly Arg[]): number {
    if (!this.active) return 0;
    let verdict = 0;
    this.faultVerdict = 0;
    let copies: Array<[AddressSpace, number, Region]> | undefined;
    try {
      this.run(
        (space, a) => {
          args.forEach((v, i) => {
            let x: bigint;
            if (typeof v === 'string') {
              const b = new TextEncoder().encode(v);
              const addr = space.alloc(b.length + 1);
              memOf(space).u8.set(b, addr);
              // the program's to read with bpf_probe_read_user_str in every probe mode (helpers/reach.ts)
              const region = space.addRegion({ base: addr, size: b.length + 1, kind: 'kernel', name: `${this.hookName} argument ${i}`, writable: false });
              (copies ??= []).push([space, addr, region]);
              x = BigInt(addr);
            } else x = BigInt.asUintN(64, BigInt(v ?? 0));
            // (a fresh view: the string copy may have grown the space)
            memOf(space).dv.setBigUint64(a + i * 8, x, true);
          });
        },
        (r0) => {
          if (r0 < 0) {
            verdict = -r0;
            return true;
          }
          return false;
        },
      );
    } finally {
      if (copies)
        for (const [s, addr, region] of copies) {
          s.removeRegion(region);
          s.free(addr);
        }
    }
    verdict ||= this.faultVerdict;
    if (verdict) this.denied++;
    return verdict;
  }

  protected override faulted(_e: unknown): boolean {
    if (this.onError !== 'deny') return false;
    this.faultVerdict = ERRNO_VALUES.EPERM;
    return true;
  }
}

const O_FLAGS: Record<string, number> = {
  r: fs.constants.O_RDONLY,
  rs: fs.constants.O_RDONLY | fs.constants.O_SYNC,
  'r+': fs.constants.O_RDWR,
  'rs+': fs.constants.O_RDWR | fs.constants.O_SYNC,
  w: fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_TRUNC,
  wx: fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_TRUNC | fs.constants.O_EXCL,
  'w+': fs.constants.O_RDWR | fs.constants.O_CREAT | fs.constants.O_TRUNC,
  a: fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_APPEND,
  'a+': fs.constants.O_RDWR | fs.constants.O_CREAT | fs.constants.O_APPEND,
};
function openFlags(f: unknown): number {
  if (typeof f === 'number') return f;
  if (typeof f === 'string') return O_FLAGS[f] ?? 0;
  return 0;
}
function pathText(p: unknown): string {
  if (typeof p === 'string') return p;
  if (p instanceof URL) return p.pathname;
  if (p instanceof Uint8Array) return new TextDecoder().decode(p);
  return String(p);
}

/** Replace obj[key] with `make(original)` until restored; returns the restorer. */
function patch<T extends object>(obj: T, key: keyof T & string, make: (orig: never) => unknown): () => void {
  const orig = obj[key];
  const wrapped = make(orig as never);
  (obj as Record<string, unknown>)[key] = wrapped;
  return () => {
    if ((obj as Record<string, unknown>)[key] === wrapped) (obj as Record<string, unknown>)[key] = orig;
  };
}

function installer(patches: () => Array<() => void>): [() => void, () => void] {
  let undo: Array<() => void> = [];
  return [
    () => {
      undo = patches();
      syncBuiltinESMExports();
    },
    () => {
      for (const u of undo.reverse()) u();
      undo = [];
      syncBuiltinESMExports();
    },
  ];
}

type Fn = (...a: unknown[]) => unknown;

let fileOpen: PolicyHook | undefined;
let socketConnect: PolicyHook | undefined;
let taskSpawn: PolicyHook | undefined;

/** lsm/file_open: fs.open, fs.openSync, fs.promises.open. */
export function fileOpenHook(): PolicyHook {
  if (fileOpen) return fileOpen;
  const hook: PolicyHook = (fileOpen = new PolicyHook('file_open', ...installer(() => [
    patch(fs, 'openSync', (orig: Fn) => function (this: unknown, ...a: unknown[]) {
      const e = hook.check([pathText(a[0]), openFlags(a[1]), Number(a[2] ?? 0o666)]);
      if (e) throw policyError(e, 'open', pathText(a[0]));
      return orig.apply(this, a);
    }),
    patch(fs, 'open', (orig: Fn) => function (this: unknown, ...a: unknown[]) {
      const cb = a[a.length - 1];
      const flags = typeof a[1] === 'function' ? undefined : a[1];
      const mode = typeof a[2] === 'function' ? undefined : a[2];
      const e = hook.check([pathText(a[0]), openFlags(flags), Number(mode ?? 0o666)]);
      if (e && typeof cb === 'function') {
        const err = policyError(e, 'open', pathText(a[0]));
        process.nextTick(() => (cb as Fn)(err));
        return undefined;
      }
      return orig.apply(this, a);
    }),
    patch(fs.promises, 'open', (orig: Fn) => function (this: unknown, ...a: unknown[]) {
      const e = hook.check([pathText(a[0]), openFlags(a[1]), Number(a[2] ?? 0o666)]);
      if (e) return Promise.reject(policyError(e, 'open', pathText(a[0])));
      return orig.apply(this, a);
    }),
  ])));
  return hook;
}

/** lsm/socket_connect: net.Socket.prototype.connect (net.connect, net.createConnection, http/https clients). */
export function socketConnectHook(): PolicyHook {
  if (socketConnect) return socketConnect;
  const hook: PolicyHook = (socketConnect = new PolicyHook('socket_connect', ...installer(() => [
    patch(net.Socket.prototype, 'connect', (orig: Fn) => function (this: net.Socket, ...a: unknown[]) {
      // connect(options[, cb]) | connect(port[, host][, cb]) | connect(path[, cb]); Node may pass [options, cb] as one array.
      const first = Array.isArray(a[0]) ? (a[0] as unknown[])[0] : a[0];
      let family = 0;
      let host = '';
      let port = 0;
      if (typeof first === 'object' && first !== null) {
        const o = first as { port?: number | string; host?: string; path?: string; family?: number };
        if (o.path) (family = 1), (host = o.path);
        else (host = o.host ?? 'localhost'), (port = Number(o.port ?? 0)), (family = o.family === 6 || net.isIPv6(host) ? 10 : 2);
      } else if (typeof first === 'string' && !/^\d+$/.test(first)) (family = 1), (host = first);
      else (port = Number(first)), (host = typeof a[1] === 'string' ? a[1] : 'localhost'), (family = net.isIPv6(host) ? 10 : 2);
      const e = hook.check([family, host, port]);
      if (e) {
        const err = policyError(e, 'connect', port ? `${host}:${port}` : host);
        process.nextTick(() => this.destroy(err));
        return this;
      }
      return orig.apply(this, a);
    }),
  ])));
  return hook;
}

/** lsm/task_spawn: child_process spawn, exec, execFile and their Sync forms. */
export function taskSpawnHook(): PolicyHook {
  if (taskSpawn) return taskSpawn;
  const guard = (orig: Fn, fileOf: (a: unknown[]) => [string, number]) =>
    function (this: unknown, ...a: unknown[]) {
      const [file, argc] = fileOf(a);
      const e = hook.check([file, argc]);
      if (e) throw policyError(e, 'spawn', file);
      return orig.apply(this, a);
    };
  const direct = (a: unknown[]): [string, number] => [String(a[0]), 1 + (Array.isArray(a[1]) ? a[1].length : 0)];
  const shell = (a: unknown[]): [string, number] => {
    const words = String(a[0]).trim().split(/\s+/);
    return [words[0] ?? '', words.length];
  };
  const hook: PolicyHook = (taskSpawn = new PolicyHook('task_spawn', ...installer(() => [
    patch(cp, 'spawn', (o: Fn) => guard(o, direct)),
    patch(cp, 'spawnSync', (o: Fn) => guard(o, direct)),
    patch(cp, 'execFile', (o: Fn) => guard(o, direct)),
    patch(cp, 'execFileSync', (o: Fn) => guard(o, direct)),
    patch(cp, 'exec', (o: Fn) => guard(o, shell)),
    patch(cp, 'execSync', (o: Fn) => guard(o, shell)),
  ])));
  return hook;
}

/** The policy hook a section names: `raw_tp/file_open`, `lsm/socket_connect`, ... */
export function policyHookOfSection(section: string): PolicyHook | undefined {
  const m = /^(?:lsm|raw_tp|raw_tracepoint)\/(file_open|socket_connect|task_spawn)$/.exec(section);
  if (!m) return undefined;
  return m[1] === 'file_open' ? fileOpenHook() : m[1] === 'socket_connect' ? socketConnectHook() : taskSpawnHook();
}

/**
 * Attach a policy program where its section says.
 * @deprecated use `program.attach(sectionHook(program))`.
 */
export function attachPolicy(p: Program): Link {
  const h = policyHookOfSection(p.spec.section);
  if (!h) throw new TsbpfError('EINVAL', `program ${p.name}: section ${p.spec.section} names no policy hook (want raw_tp/file_open, raw_tp/socket_connect or raw_tp/task_spawn)`);
  return p.attach(h);
}
