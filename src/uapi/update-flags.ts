/**
 * BPF_MAP_UPDATE_ELEM's flags (include/uapi/linux/bpf.h; attr->flags of
 * bpf(2), the flags argument of bpf_map_update_elem): the maps layer and the
 * hash probe the helpers emit both follow them.
 */
export const BPF_ANY = 0;
export const BPF_NOEXIST = 1;
export const BPF_EXIST = 2;
