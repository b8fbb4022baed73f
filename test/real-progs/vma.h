/* struct vm_area_struct as bpf_find_vma callbacks read it (real.h's __core). */
#ifndef VMA_H
#define VMA_H
#include "real.h"

struct vm_area_struct {
	unsigned long vm_start;
	unsigned long vm_end;
} __core;

struct vma_ctx {
	unsigned long start;
};
#endif
