/**
 * Helper prototypes: what the verifier checks at each `call` to a helper
 * (the helper catalog, helpers.ts, holds one per helper).
 *
 * The names follow the kernel's `enum bpf_arg_type` / `enum bpf_return_type`
 * (include/linux/bpf.h), so a prototype here reads like the kernel's
 * `struct bpf_func_proto` for the same helper.
 */

export type ArgType =
  /** any value, unchecked */
  | 'ANYTHING'
  /** a map pointer loaded with lddw (pseudo map fd/idx) */
  | 'CONST_MAP_PTR'
  /** pointer to key_size initialised bytes (stack, map value, packet) */
  | 'PTR_TO_MAP_KEY'
  /** pointer to value_size initialised bytes */
  | 'PTR_TO_MAP_VALUE'
  /** pointer to value_size bytes the helper will write (may be uninitialised) */
  | 'PTR_TO_UNINIT_MAP_VALUE'
  /** readable memory whose size is the next argument */
  | 'PTR_TO_MEM'
  /** like PTR_TO_MEM, but NULL is allowed */
  | 'PTR_TO_MEM_OR_NULL'
  /** writable memory the helper fills, size in the next argument (need not be initialised) */
  | 'PTR_TO_UNINIT_MEM'
  /** size of the preceding memory argument, a known-bounded scalar > 0 */
  | 'CONST_SIZE'
  /** size of the preceding memory argument, may be 0 */
  | 'CONST_SIZE_OR_ZERO'
  /** allocation size (ringbuf_reserve), a known constant */
  | 'CONST_ALLOC_SIZE_OR_ZERO'
  /** the program's context pointer */
  | 'PTR_TO_CTX'
  | 'PTR_TO_CTX_OR_NULL'
  /** a pointer to a bpf function (lddw src=4), for callbacks */
  | 'PTR_TO_FUNC'
  /** pointer into the stack */
  | 'PTR_TO_STACK'
  | 'PTR_TO_STACK_OR_NULL'
  /** a pointer previously returned by ringbuf_reserve (released by the call) */
  | 'PTR_TO_RINGBUF_MEM'
  /** a NUL-terminated string in a read-only map value */
  | 'PTR_TO_CONST_STR'
  /** pointer to an 8-byte aligned writable long */
  | 'PTR_TO_LONG'
  /** pointer to a 4-byte aligned writable u32 (ARG_PTR_TO_FIXED_SIZE_MEM | MEM_WRITE | MEM_ALIGNED, arg_size 4: check_mtu) */
  | 'PTR_TO_U32'
  /** pointer to a struct bpf_spin_lock inside a map value */
  | 'PTR_TO_SPIN_LOCK'
  /** pointer to a struct bpf_timer inside a map value */
  | 'PTR_TO_TIMER'
  /** an initialised dynptr of any type the helper does not change (ARG_PTR_TO_DYNPTR | MEM_RDONLY) */
  | 'PTR_TO_DYNPTR'
  /** stack slots the helper makes a LOCAL dynptr (ARG_PTR_TO_DYNPTR | DYNPTR_TYPE_LOCAL | MEM_UNINIT) */
  | 'PTR_TO_UNINIT_DYNPTR_LOCAL'
  /** stack slots the helper makes a RINGBUF dynptr holding a reference (ARG_PTR_TO_DYNPTR | DYNPTR_TYPE_RINGBUF | MEM_UNINIT) */
  | 'PTR_TO_UNINIT_DYNPTR_RINGBUF'
  /** a RINGBUF dynptr the helper releases (ARG_PTR_TO_DYNPTR | DYNPTR_TYPE_RINGBUF | OBJ_RELEASE) */
  | 'PTR_TO_DYNPTR_RINGBUF'
  /** a socket, task or other kernel object: tsbpf programs cannot obtain these */
  | 'PTR_TO_BTF_ID'
  /** a kernel object or NULL (the storage helpers' owner) */
  | 'PTR_TO_BTF_ID_OR_NULL'
  /** any socket pointer (struct sock_common and its relatives) */
  | 'PTR_TO_BTF_ID_SOCK_COMMON'
  /** a socket pointer or NULL (ARG_PTR_TO_BTF_ID_SOCK_COMMON | PTR_MAYBE_NULL: get_socket_cookie in tracing programs) */
  | 'PTR_TO_BTF_ID_SOCK_COMMON_OR_NULL'
  /** a socket the program got from a socket helper (ARG_PTR_TO_SOCK_COMMON) */
  | 'PTR_TO_SOCK_COMMON'
  /** a full socket (ARG_PTR_TO_SOCKET), or one or NULL (ARG_PTR_TO_SOCKET_OR_NULL: sk_lookup's sk_assign) */
  | 'PTR_TO_SOCKET'
  | 'PTR_TO_SOCKET_OR_NULL'
  /** a per-CPU kernel variable (ksym) */
  | 'PTR_TO_PERCPU_BTF_ID'
  /** a kptr field of a map value (ARG_KPTR_XCHG_DEST) */
  | 'PTR_TO_KPTR'
  /** a map value or NULL (the storage helpers' initial value) */
  | 'PTR_TO_MAP_VALUE_OR_NULL'
  /** memory of a size fixed by the prototype (a packet header: ARG_PTR_TO_FIXED_SIZE_MEM with arg_size) */
  | 'PTR_TO_FIXED_SIZE_MEM';

export type RetType =
  | 'INTEGER'
  | 'VOID'
  | 'PTR_TO_MAP_VALUE_OR_NULL'
  | 'PTR_TO_MAP_VALUE'
  /** ringbuf_reserve: pointer to `size` bytes (the constant arg 2) or NULL; acquires a reference */
  | 'PTR_TO_RINGBUF_MEM_OR_NULL'
  | 'PTR_TO_MEM_OR_NULL'
  /** a socket or NULL (RET_PTR_TO_SOCKET / TCP_SOCK / SOCK_COMMON _OR_NULL) */
  | 'PTR_TO_SOCKET_OR_NULL'
  | 'PTR_TO_TCP_SOCK_OR_NULL'
  | 'PTR_TO_SOCK_COMMON_OR_NULL'
  /** kernel objects (PTR_TO_BTF_ID), and kinds tsbpf's verifier does not model (per-CPU kernel variables, dynptr memory) */
  | 'PTR_TO_BTF_ID'
  | 'PTR_TO_BTF_ID_OR_NULL'
  | 'PTR_TO_BTF_ID_TRUSTED'
  | 'PTR_TO_MEM_OR_BTF_ID'
  | 'PTR_TO_MEM_OR_BTF_ID_OR_NULL'
  | 'PTR_TO_DYNPTR_MEM_OR_NULL';

export interface HelperProto {
  ret: RetType;
  /** up to five arguments, r1..r5 */
  args: ArgType[];
  /** the helper is GPL-only (the kernel refuses it to non-GPL programs) */
  gplOnly?: boolean;
  /** the helper may change packet data, so packet pointers are invalidated after the call */
  changesPktData?: boolean;
  /** index of the argument whose pointer the helper releases (ringbuf submit/discard) */
  releasesArg?: number;
  /** the helper may sleep (only sleepable programs may call it) */
  mightSleep?: boolean;
  /** the kernel struct a PTR_TO_BTF_ID(_OR_NULL) argument must point to (the proto's argN_btf_id) */
  argStruct?: string;
  /** the kernel struct a PTR_TO_BTF_ID(_OR_NULL) return points to (the proto's ret_btf_id) */
  retStruct?: string;
  /** the byte size of each PTR_TO_FIXED_SIZE_MEM argument, by argument index (the proto's argN_size) */
  argSize?: readonly (number | undefined)[];
  /**
   * PTR_TO_MEM(_OR_NULL) arguments, by index, that Linux declares without MEM_RDONLY (plain
   * ARG_PTR_TO_MEM: the helper may write there): check_reg_type refuses a trusted kernel-object
   * pointer for them, as for PTR_TO_UNINIT_MEM, where it takes one for a read-only argument
   */
  writesMem?: readonly number[];
}
