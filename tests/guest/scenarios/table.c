/* The scenario table kmain() searches, built from list.h. */
#include "tk.h"

#define SCENARIO(name, fn, acpi) int fn(const struct bootinfo *bi, const struct acpi_info *ai);
#include "list.h"
#undef SCENARIO

const struct scenario tk_scenarios[] = {
#define SCENARIO(name, fn, acpi) { name, fn, acpi },
#include "list.h"
#undef SCENARIO
};

const size_t tk_nscenarios = sizeof(tk_scenarios) / sizeof(tk_scenarios[0]);
