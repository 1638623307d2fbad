package runtime

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/inceptionctl/inception/pkg/stack"
)

func svc(name string, deps map[string]stack.Condition) stack.Service {
	return stack.Service{Name: name, DependsOn: deps}
}

func TestGraphOrder(t *testing.T) {
	g, err := newGraph([]stack.Service{
		svc("nginx", map[string]stack.Condition{"wordpress": stack.ConditionStarted, "adminer": ""}),
		svc("wordpress", map[string]stack.Condition{"mariadb": stack.ConditionHealthy, "redis": stack.ConditionStarted}),
		svc("adminer", map[string]stack.Condition{"mariadb": stack.ConditionStarted}),
		svc("mariadb", nil),
		svc("redis", nil),
	})
	require.NoError(t, err)
	assert.Equal(t, []string{"mariadb", "redis", "wordpress", "adminer", "nginx"}, g.order)
	assert.Equal(t, stack.ConditionStarted, g.dependencies("nginx")["adminer"], "no condition means started")
	assert.Equal(t, []string{"mariadb", "redis", "wordpress"}, g.closure([]string{"wordpress"}))
	assert.Equal(t, []string{"mariadb", "adminer"}, g.closure([]string{"adminer"}))
	assert.Equal(t, g.order, g.closure(nil))
	assert.Equal(t, []string{"nginx", "wordpress", "mariadb"}, g.stopOrder([]string{"mariadb", "nginx", "wordpress"}))
}

func TestGraphErrors(t *testing.T) {
	tests := []struct {
		name  string
		svcs  []stack.Service
		want  []string
		cycle bool
	}{
		{
			name: "cycle with its path",
			svcs: []stack.Service{
				svc("a", map[string]stack.Condition{"b": ""}),
				svc("b", map[string]stack.Condition{"c": ""}),
				svc("c", map[string]stack.Condition{"a": ""}),
			},
			want:  []string{"a -> b -> c -> a"},
			cycle: true,
		},
		{
			name:  "cycle below an acyclic part",
			svcs:  []stack.Service{svc("x", map[string]stack.Condition{"y": ""}), svc("y", map[string]stack.Condition{"z": ""}), svc("z", map[string]stack.Condition{"y": ""})},
			want:  []string{"y -> z -> y"},
			cycle: true,
		},
		{name: "self", svcs: []stack.Service{svc("a", map[string]stack.Condition{"a": ""})}, want: []string{`"a" depends on itself`}},
		{
			name: "unknown services, all reported",
			svcs: []stack.Service{svc("a", map[string]stack.Condition{"nope": ""}), svc("b", map[string]stack.Condition{"gone": ""})},
			want: []string{`"a" depends on "nope"`, `"b" depends on "gone"`},
		},
		{
			name: "bad condition",
			svcs: []stack.Service{svc("a", map[string]stack.Condition{"b": "ready"}), svc("b", nil)},
			want: []string{`condition "ready"`},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := newGraph(tc.svcs)
			require.ErrorIs(t, err, stack.ErrInvalid)
			if tc.cycle {
				assert.ErrorIs(t, err, ErrDependencyCycle)
			}
			for _, w := range tc.want {
				assert.Contains(t, err.Error(), w)
			}
		})
	}
}

func TestCriticalOrder(t *testing.T) {
	g, err := newGraph([]stack.Service{
		{Name: "nginx", DependsOn: map[string]stack.Condition{"wordpress": stack.ConditionStarted, "static": stack.ConditionStarted}},
		{Name: "wordpress", DependsOn: map[string]stack.Condition{"mariadb": stack.ConditionStarted, "redis": stack.ConditionStarted}},
		{Name: "vsftpd"},
		{Name: "static"},
		{Name: "redis"},
		{Name: "mariadb"},
	})
	require.NoError(t, err)
	order := g.closure(nil)
	got := g.criticalOrder(order)
	// Start order: wordpress's dependencies, wordpress, vsftpd, static,
	// nginx (dependencies first, then stack order). Chains: redis and
	// mariadb 2, wordpress and static 1, the rest 0.
	assert.Equal(t, []string{"redis", "mariadb", "wordpress", "static"}, got[:4], "the heads of the longest chains first")
	assert.ElementsMatch(t, order, got)
	pos := map[string]int{}
	for i, n := range got {
		pos[n] = i
	}
	for _, n := range got {
		for d := range g.dependencies(n) {
			assert.Less(t, pos[d], pos[n], "%s before its dependent %s", d, n)
		}
	}
	assert.Equal(t, []string{"static"}, g.criticalOrder([]string{"static"}))
}

// TestGraphOneShots: a service another waits on with
// service_completed_successfully is a job up --wait lets exit 0; one only
// started by others, or whose dependent is not selected, is not.
func TestGraphOneShots(t *testing.T) {
	g, err := newGraph([]stack.Service{
		svc("web", map[string]stack.Condition{"migrate": stack.ConditionCompletedSuccessfully, "db": stack.ConditionHealthy}),
		svc("migrate", map[string]stack.Condition{"db": stack.ConditionHealthy}),
		svc("report", map[string]stack.Condition{"db": stack.ConditionCompletedSuccessfully}),
		svc("db", nil),
	})
	require.NoError(t, err)
	assert.Equal(t, map[string]bool{"migrate": true}, g.oneShots([]string{"db", "migrate", "web"}))
	assert.Empty(t, g.oneShots([]string{"db", "migrate"}), "web, which waits for migrate to complete, is not started")
	assert.Equal(t, map[string]bool{"migrate": true, "db": true}, g.oneShots([]string{"db", "migrate", "web", "report"}))
}
