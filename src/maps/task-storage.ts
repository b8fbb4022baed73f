/** BPF_MAP_TYPE_TASK_STORAGE: a value per task_struct (kernel/bpf/bpf_task_storage.c; Linux's syscall key is a pidfd). See local-storage.ts. */
import { LocalStorageMap, type StorageOwner } from './local-storage.js';

export class TaskStorageMap extends LocalStorageMap {
  readonly owner: StorageOwner = 'task';
}
