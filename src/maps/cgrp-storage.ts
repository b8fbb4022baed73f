/** BPF_MAP_TYPE_CGRP_STORAGE: a value per cgroup (kernel/bpf/bpf_cgrp_storage.c; Linux's syscall key is an fd of its directory). See local-storage.ts. */
import { LocalStorageMap, type StorageOwner } from './local-storage.js';

export class CgrpStorageMap extends LocalStorageMap {
  readonly owner: StorageOwner = 'cgrp';
}
