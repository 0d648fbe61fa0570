/* registry.c - lookups in a workload's kernel table (registry.h): the one
 * piece of registry code both drivers use. */
#include "registry.h"

#include <stdio.h>
#include <string.h>

const hpl_kernel_row *hpl_registry_row(const hpl_registry *r, int k)
{
    return k >= 0 && k < r->count ? &r->rows[k] : NULL;
}

const char *hpl_registry_name(const hpl_registry *r, int k)
{
    const hpl_kernel_row *row = hpl_registry_row(r, k);
    return row ? row->name : NULL;
}

hpl_status hpl_registry_find(const hpl_registry *r, const char *name, int *k)
{
    if (name == NULL || k == NULL)
        return hpl_fail(HPL_EINVAL, "kernel name and result pointer must not be NULL");
    for (int i = 0; i < r->count; i++) {
        if (strcmp(name, r->rows[i].name) == 0) {
            *k = i;
            return HPL_OK;
        }
    }
    /* the message lists every kernel, so that it can never go stale */
    char allowed[400] = "";
    size_t len = 0;
    for (int i = 0; i < r->count && len < sizeof allowed; i++)
        len += (size_t)snprintf(allowed + len, sizeof allowed - len, "%s%s", i ? ", " : "", r->rows[i].name);
    return hpl_fail(HPL_EINVAL, "unknown %s kernel '%.64s' (allowed: %s)", r->workload, name, allowed);
}

int hpl_registry_built(const hpl_registry *r, int k, const char **why)
{
    const hpl_kernel_row *row = hpl_registry_row(r, k);
    const char *reason = row == NULL              ? "not a kernel id"
                         : row->backend == NULL ? (row->why[0] ? row->why : "not built")
                                                : "";
    if (why)
        *why = reason;
    return row != NULL && row->backend != NULL;
}

int hpl_registry_available(const hpl_registry *r, int k, const char **why)
{
    if (!hpl_registry_built(r, k, why))
        return 0;
    /* built: a device kernel also needs its device, here and now */
    const char *reason = r->probe ? r->probe(k) : "";
    if (why)
        *why = reason;
    return reason[0] == '\0';
}

const char *hpl_registry_detail(const hpl_registry *r, int k)
{
    return hpl_registry_built(r, k, NULL) && r->detail ? r->detail(k) : "";
}

hpl_status hpl_registry_backend(const hpl_registry *r, int k, const void **backend)
{
    const char *why;
    if (hpl_registry_row(r, k) == NULL)
        return hpl_fail(HPL_EINVAL, "kernel id %d is not a %s kernel (0..%d)", k, r->workload, r->count - 1);
    if (!hpl_registry_available(r, k, &why))
        return hpl_fail(HPL_EUNAVAILABLE, "%s kernel '%s' is not available: %s", r->workload, r->rows[k].name,
                        why);
    *backend = r->rows[k].backend;
    return HPL_OK;
}

/* ---- the generic public view (common.h) ---------------------------------- */

static const hpl_registry *registry_of(hpl_workload w)
{
    return w == HPL_WORKLOAD_DIFFUSION ? &hpl_diffusion_registry
           : w == HPL_WORKLOAD_TRIANGLES ? &hpl_triangles_registry
                                         : NULL;
}

const char *hpl_workload_name(hpl_workload w)
{
    const hpl_registry *r = registry_of(w);
    return r ? r->workload : NULL;
}

int hpl_kernel_count(hpl_workload w)
{
    const hpl_registry *r = registry_of(w);
    return r ? r->count : 0;
}

hpl_status hpl_kernel_info_get(hpl_workload w, int k, hpl_kernel_info *info)
{
    const hpl_registry *r = registry_of(w);
    if (r == NULL)
        return hpl_fail(HPL_EINVAL, "workload %d is not a workload (0..%d)", (int)w, HPL_WORKLOAD_COUNT - 1);
    const hpl_kernel_row *row = hpl_registry_row(r, k);
    if (row == NULL)
        return hpl_fail(HPL_EINVAL, "kernel id %d is not a %s kernel (0..%d)", k, r->workload, r->count - 1);
    if (info == NULL)
        return hpl_fail(HPL_EINVAL, "info must not be NULL");
    info->name = row->name;
    info->summary = row->summary;
    info->threaded = row->threaded;
    info->data = row->data;
    info->built = hpl_registry_built(r, k, &info->why);
    info->available = info->built && hpl_registry_available(r, k, &info->why);
    info->detail = hpl_registry_detail(r, k);
    hpl_clear_error();
    return HPL_OK;
}
