// Checks of the queries that walk a range's models (GetCrossTab, ExportModels) against the
// recomputation of truth.h, on a live server. Failures are gtest failures of the calling test.
#ifndef HUBSTATS_TESTS_INTEGRATION_WALK_CHECKS_H_
#define HUBSTATS_TESTS_INTEGRATION_WALK_CHECKS_H_

#include <string>

#include "truth.h"

namespace hubstats::integration {

// Every cell and total of a few cross-tabs (class dimensions, a size dimension on grid and
// off-grid boundaries, with and without a modality filter) equals the recount.
void CheckCrossTabs(test_support::Connection& connection, const Truth& truth, const Range& range);

// Exports (all models, and filtered by modality, author, parameters) stream exactly the
// recount's models in ranking order, in chunks of the size asked for, all at one version.
void CheckExports(test_support::Connection& connection, const Truth& truth, const Range& range);

}  // namespace hubstats::integration

#endif  // HUBSTATS_TESTS_INTEGRATION_WALK_CHECKS_H_
