// Package report is what pkg/bench measured, as it writes it in JSON: a
// Report of build figures (a Result per Case and Variant, a Case being a
// Scenario on one image or the stack), run-time figures (RuntimeReport)
// and second-runner figures. Read reads one back; the JSON field names
// stay, so that earlier reports read the same.
package report
