/** BPF_MAP_TYPE_INODE_STORAGE: a value per an inode (kernel/bpf/bpf_inode_storage.c; Linux's syscall key is an fd of a file on it). See local-storage.ts. */
import { LocalStorageMap, type StorageOwner } from './local-storage.js';

export class InodeStorageMap extends LocalStorageMap {
  readonly owner: StorageOwner = 'inode';
}
