// Machine topology summary through hwloc 2.x: packages, NUMA nodes, cores, PUs and the CPU model.
//
// synthetic == NULL describes this machine; otherwise `synthetic` is an hwloc synthetic description
// ("pack:2 numa:2 core:8 pu:1" → 2 packages, 4 NUMA nodes, 32 cores, 32 PUs) so planning code can be
// tested on machines we do not have. In hwloc 2.x NUMA nodes are memory children, not part of the
// CPU tree; hwloc_get_nbobjs_by_type(HWLOC_OBJ_NUMANODE) still counts them.
//
// Counts are never reported as 0: a VM that exposes no core (or package) level gets cores = PUs
// (packages = 1), and there is always at least one NUMA node.
#include <errno.h>
#include <hwloc.h>
#include <stdio.h>
#include <string.h>

#include "csupport.h"

static int count_of(hwloc_topology_t topo, hwloc_obj_type_t type) {
    int n = hwloc_get_nbobjs_by_type(topo, type);
    if (n < 0) {  // the type lives at several depths: count them all
        n = 0;
        for (hwloc_obj_t o = hwloc_get_next_obj_by_type(topo, type, NULL); o != NULL;
             o = hwloc_get_next_obj_by_type(topo, type, o)) {
            n++;
        }
    }
    return n;
}

int cs_topology_summarize(const char *synthetic, cs_topology_summary *out, char *err, size_t errlen) {
    if (out == NULL) {
        if (err != NULL && errlen > 0) snprintf(err, errlen, "cs_topology_summarize: out is NULL");
        return -1;
    }
    memset(out, 0, sizeof *out);
    hwloc_topology_t topo;
    if (hwloc_topology_init(&topo) != 0) {
        if (err != NULL && errlen > 0)
            snprintf(err, errlen, "hwloc_topology_init failed: %s", strerror(errno));
        return -1;
    }
    if (synthetic != NULL && hwloc_topology_set_synthetic(topo, synthetic) != 0) {
        if (err != NULL && errlen > 0)
            snprintf(err, errlen,
                     "invalid hwloc synthetic topology \"%s\" (expected e.g. \"pack:2 numa:2 core:8 pu:1\")",
                     synthetic);
        hwloc_topology_destroy(topo);
        return -1;
    }
    if (hwloc_topology_load(topo) != 0) {
        if (err != NULL && errlen > 0)
            snprintf(err, errlen, "hwloc_topology_load failed%s%s: %s",
                     synthetic != NULL ? " for synthetic topology " : "",
                     synthetic != NULL ? synthetic : "", strerror(errno));
        hwloc_topology_destroy(topo);
        return -1;
    }

    out->pus = count_of(topo, HWLOC_OBJ_PU);
    out->cores = count_of(topo, HWLOC_OBJ_CORE);
    out->packages = count_of(topo, HWLOC_OBJ_PACKAGE);
    out->numa_nodes = count_of(topo, HWLOC_OBJ_NUMANODE);
    if (out->pus < 1) out->pus = 1;
    if (out->cores < 1) out->cores = out->pus;
    if (out->packages < 1) out->packages = 1;
    if (out->numa_nodes < 1) out->numa_nodes = 1;

    const char *model = NULL;
    hwloc_obj_t pack = hwloc_get_obj_by_type(topo, HWLOC_OBJ_PACKAGE, 0);
    if (pack != NULL) model = hwloc_obj_get_info_by_name(pack, "CPUModel");
    if (model == NULL) model = hwloc_obj_get_info_by_name(hwloc_get_root_obj(topo), "CPUModel");
    snprintf(out->cpu_model, sizeof out->cpu_model, "%s", model != NULL ? model : "unknown");

    hwloc_topology_destroy(topo);
    return 0;
}
