package report

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestLoadResultFailed(t *testing.T) {
	tests := []struct {
		name string
		r    LoadResult
		want string
	}{
		{"clean", LoadResult{Requests: 1000}, ""},
		{"1% exactly passes", LoadResult{Requests: 990, Errors: 10}, ""},
		{"just over 1%", LoadResult{Requests: 989, Errors: 11, FirstError: "status 502 Bad Gateway"}, "11 errors in 1000 requests (1.1% > 1%); first: status 502 Bad Gateway"},
		{"nothing at all", LoadResult{}, "no request completed"},
		{"errors only", LoadResult{Errors: 1}, "1 errors in 1 requests"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.want == "" {
				assert.Empty(t, tc.r.Failed())
				return
			}
			assert.Contains(t, tc.r.Failed(), tc.want)
		})
	}
}
