/** BPF_MAP_TYPE_SK_STORAGE: a value per socket (net/core/bpf_sk_storage.c; Linux's syscall key is the socket's fd). See local-storage.ts. */
import { LocalStorageMap, type StorageOwner } from './local-storage.js';

export class SkStorageMap extends LocalStorageMap {
  readonly owner: StorageOwner = 'sk';
}
