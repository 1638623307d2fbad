// Package benchstat is the statistics of pkg/bench: medians and min-max
// bands, the machine a report comes from and a machine reference timed
// during a bench (how fast the machine itself was), the comparison of a
// run's figures with an earlier run's, and the verdicts of target checks.
//
// Its types are fields of pkg/bench/report's Report, and so its JSON: a report
// reads the same after a change here only if the field names stay.
package benchstat
