// Package bench measures how long images take to rebuild on a BuildKit
// engine, and run-time figures of the stack they make.
//
// A BuildBench builds each Case (a Scenario on one image or the whole
// stack) in each Variant: the project's LLB graphs, the same graphs as a
// linear chain, the Dockerfile frontend, and docker compose on request.
// Every change is made in a scratch copy and undone after its build, so
// every run starts from the same cache. A RuntimeBench measures a stack of
// its own (Up to the home page, Start of one service, HTTPS requests per
// second), and a SecondRunnerBench what a registry cache gives a fresh
// builder. Each figure has a warm-up, then runs spread over passes; its
// median and min-max band go into a Report, which reads and writes JSON.
//
//	cases, err := bench.Plan(stack.Default().Names(), nil, nil, false)
//	rep, err := bench.Run(ctx, bk, images, cases, bench.WithImageStore(cd.ImageService()))
//	err = rep.WriteJSON(os.Stdout)
package bench
