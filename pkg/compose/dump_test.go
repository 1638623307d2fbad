package compose

import (
	"fmt"
	"testing"
	"reflect"
)

func TestDump(t *testing.T) {
	p, err := Load(t.Context(), WithFiles("../../testdata/compose/keys/compose.yaml"), WithEnvironment(nil))
	fmt.Println(err)
	if p != nil {
		y, _ := p.MarshalYAML()
		fmt.Println(string(y))
	}
	_ = reflect.ValueOf
}
