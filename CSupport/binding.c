// Cores as the thread planner sees them, and pinning the calling thread.
//
// cs_topology_cores lists every core (hwloc logical order) with the logical index of its NUMA node
// and the OS index of its first PU; the Swift planner turns that into a worker plan (a pure
// function, so it is tested on synthetic topologies). cs_bind_current_thread binds the calling
// thread to one PU of THIS machine (binding on synthetic topologies would silently do nothing);
// cs_save/restore_thread_binding put a thread's binding back after a pinned pool is gone.
#include <hwloc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csupport.h"

static hwloc_obj_t numa_of(hwloc_topology_t topo, hwloc_obj_t core) {
    // In hwloc 2.x NUMA nodes are memory children of an ancestor: take the first node whose
    // cpuset contains the core's.
    for (hwloc_obj_t n = hwloc_get_next_obj_by_type(topo, HWLOC_OBJ_NUMANODE, NULL); n != NULL;
         n = hwloc_get_next_obj_by_type(topo, HWLOC_OBJ_NUMANODE, n)) {
        if (hwloc_bitmap_isincluded(core->cpuset, n->cpuset)) return n;
    }
    return NULL;
}

int cs_topology_cores(const char *synthetic, int *core_node, int *core_pu, int max_cores, char *err,
                      size_t errlen) {
    hwloc_topology_t topo;
    if (hwloc_topology_init(&topo) != 0) {
        snprintf(err, errlen, "hwloc_topology_init failed");
        return -1;
    }
    if (synthetic != NULL && hwloc_topology_set_synthetic(topo, synthetic) != 0) {
        snprintf(err, errlen, "invalid hwloc synthetic topology \"%s\" (expected e.g. \"pack:2 numa:2 core:8 pu:1\")",
                 synthetic);
        hwloc_topology_destroy(topo);
        return -1;
    }
    if (hwloc_topology_load(topo) != 0) {
        snprintf(err, errlen, "hwloc_topology_load failed");
        hwloc_topology_destroy(topo);
        return -1;
    }
    hwloc_obj_type_t unit = hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_CORE) > 0 ? HWLOC_OBJ_CORE : HWLOC_OBJ_PU;
    int n = 0;
    for (hwloc_obj_t c = hwloc_get_next_obj_by_type(topo, unit, NULL); c != NULL;
         c = hwloc_get_next_obj_by_type(topo, unit, c)) {
        if (n < max_cores) {
            hwloc_obj_t node = numa_of(topo, c);
            core_node[n] = node != NULL ? (int)node->logical_index : 0;
            hwloc_obj_t pu = hwloc_get_obj_inside_cpuset_by_type(topo, c->cpuset, HWLOC_OBJ_PU, 0);
            core_pu[n] = pu != NULL ? (int)pu->os_index : n;
        }
        n++;
    }
    hwloc_topology_destroy(topo);
    return n;
}

static hwloc_topology_t machine;
static pthread_once_t machine_once = PTHREAD_ONCE_INIT;
static void load_machine(void) {
    if (hwloc_topology_init(&machine) != 0 || hwloc_topology_load(machine) != 0) machine = NULL;
}

int cs_bind_current_thread(int pu_os_index) {
    pthread_once(&machine_once, load_machine);
    if (machine == NULL) return -1;
    hwloc_bitmap_t set = hwloc_bitmap_alloc();
    hwloc_bitmap_only(set, (unsigned)pu_os_index);
    int rc = hwloc_set_cpubind(machine, set, HWLOC_CPUBIND_THREAD);
    hwloc_bitmap_free(set);
    return rc;
}

void *cs_save_thread_binding(void) {
    pthread_once(&machine_once, load_machine);
    if (machine == NULL) return NULL;
    hwloc_bitmap_t set = hwloc_bitmap_alloc();
    if (set == NULL) return NULL;
    if (hwloc_get_cpubind(machine, set, HWLOC_CPUBIND_THREAD) != 0) {
        hwloc_bitmap_free(set);
        return NULL;
    }
    return set;
}

int cs_restore_thread_binding(void *saved) {
    if (saved == NULL) return -1;
    int rc = hwloc_set_cpubind(machine, (hwloc_bitmap_t)saved, HWLOC_CPUBIND_THREAD);
    hwloc_bitmap_free((hwloc_bitmap_t)saved);
    return rc;
}

int cs_thread_allowed_pus(int *pus, int max) {
    hwloc_bitmap_t set = cs_save_thread_binding();
    if (set == NULL) return -1;
    int n = 0;
    for (int i = hwloc_bitmap_first(set); i >= 0; i = hwloc_bitmap_next(set, i)) {
        if (n < max) pus[n] = i;
        n++;
    }
    hwloc_bitmap_free(set);
    return n;
}

int cs_thread_binding_list(char *out, size_t len) {
    hwloc_bitmap_t set = cs_save_thread_binding();
    if (set == NULL || len == 0) {
        if (set != NULL) hwloc_bitmap_free(set);
        return -1;
    }
    hwloc_bitmap_list_snprintf(out, len, set);
    hwloc_bitmap_free(set);
    return 0;
}

int cs_process_thread_count(void) {
    FILE *f = fopen("/proc/self/status", "r");
    if (f == NULL) return -1;
    char line[256];
    int threads = -1;
    while (fgets(line, sizeof line, f) != NULL) {
        if (strncmp(line, "Threads:", 8) == 0) { threads = atoi(line + 8); break; }
    }
    fclose(f);
    return threads;
}
