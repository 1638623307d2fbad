// Package bench measures how long images take to rebuild on a BuildKit
// engine, and run-time figures of the stack they make. A BuildBench builds
// each Case (a Scenario on one image or the stack) in each Variant, every
// change made in a scratch copy and undone after its build; a RuntimeBench
// times a stack of its own, a SecondRunnerBench what a registry cache gives
// a fresh builder, MeasureFault what a fault (a kill -9, a full disk) costs
// the site's visitors under the same load. Each figure has a warm-up, then runs spread over passes;
// medians and min-max bands go into a Report, written and read as JSON.
//
//	cases, err := bench.Plan(stack.Default().Names(), nil, nil, false)
//	rep, err := bench.Run(ctx, bk, images, cases, bench.WithImageStore(cd.ImageService()))
package bench
