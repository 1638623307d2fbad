package report

// Values of the reports: the scope of a case that builds every image at
// once (Case.Scope), the figures (RuntimeResult.Figure,
// SecondRunnerResult.Figure), and the second-runner scenario's name.
const (
	ScopeStack = "stack"

	// up: Up --wait to the home page, empty volumes, then data kept.
	FigureFirstBoot  = "first-boot"
	FigureSecondBoot = "second-boot"
	// start: Start returned and the task runs; the health check passed.
	FigureRunning = "running"
	FigureHealthy = "healthy"
	// https: the Redis object cache on, and ENABLE_REDIS=0.
	FigureRedisCache = "redis-cache"
	FigureNoCache    = "no-cache"
	// page-cache, nginx's page cache on (the home page with no cookie: a
	// hit; a logged-in user's: bypassed; a page of its own per request:
	// a miss), then the same three with it off; in the order
	// the report lists them.
	FigureAnonymous    = "anonymous"
	FigureLoggedIn     = "logged-in"
	FigureMiss         = "miss"
	FigureAnonymousOff = "anonymous-off"
	FigureLoggedInOff  = "logged-in-off"
	FigureMissOff      = "miss-off"
	// The compose variant's first boot: `docker compose up -d` of the
	// exported tree to the home page answering 200, empty volumes.
	FigureComposeFirstBoot = "compose-first-boot"

	// SecondRunner is the opt-in scenario that measures what a registry
	// gives a second machine: a fresh builder (a CI runner with an empty
	// cache) with the registry cache a first builder exported, against
	// the same builder without it; the push; the pull, then up. Never in
	// the default set: a round builds the images from nothing.
	SecondRunner = "second-runner"
	// Its figures, in the order reported: the engine's builder pushes the
	// images and their cache; a fresh builder --cache-from the registry
	// cache pushes; the same without the cache; with the cache, OCI
	// tarballs instead (every layer fetched, where a push to the
	// registry that holds the cache fetches none); the engine pulls the
	// images; pull, then Up --wait to the home page answering 200.
	FigurePush         = "push"
	FigureWithCache    = "with-cache"
	FigureWithoutCache = "without-cache"
	FigureWithCacheOCI = "with-cache-oci"
	FigurePull         = "pull"
	FigurePullUp       = "pull-and-up"
)
