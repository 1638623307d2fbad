package runtime

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"path/filepath"

	"github.com/inceptionctl/inception/pkg/stack"
)

// Everything the runtime makes for a stack is named after the whole project
// name (stack.Stack.Name), never a prefix of it: files and directories of a
// project live in a directory named after it, containers and the bridge
// carry the name exactly, and down finds its objects by label or by exact
// name. Two projects whose names share a prefix ("inception" and
// "inception-dev") so never touch each other's objects.

// bridgeNameMax is the kernel's limit for an interface name (IFNAMSIZ-1).
const bridgeNameMax = 15

// BridgeName is the bridge of a project's network: inc-<project> when that
// fits in an interface name, else inc-<first letters>.<hash>, the hash of
// the whole name. A short form never has a dot (project names cannot), so
// no short name can take a long name's bridge, and two long names with a
// common prefix differ by their hash.
//
//	runtime.BridgeName("inception") // "inc-inception"
func BridgeName(project string) string {
	if b := "inc-" + project; len(b) <= bridgeNameMax {
		return b
	}
	sum := sha256.Sum256([]byte(project))
	h := hex.EncodeToString(sum[:])[:6]
	return "inc-" + project[:bridgeNameMax-len("inc-.")-len(h)] + "." + h
}

// ProjectSubnet is a project's network when none is given: DefaultSubnet
// for the Inception stack's default project, else a /24 of 10.90.0.0/16
// picked by a hash of the project name, so two projects can be up at once
// without a --subnet each. Up refuses a subnet another interface of the
// host already has an address in (another project that drew the same one).
//
//	runtime.ProjectSubnet("inception-dev") // "10.90.N.0/24"
func ProjectSubnet(project string) string {
	if project == stack.DefaultProjectName {
		return DefaultSubnet
	}
	sum := sha256.Sum256([]byte(project))
	return fmt.Sprintf("10.90.%d.0/24", sum[0])
}

// ContainerID is the containerd id of a project's service, <project>-<service>
// as docker compose names containers. Its labels say whose it is: up refuses
// to take over a container of another project that has the same id (project
// "a-b" with service "c" and project "a" with service "b-c"), and down
// removes only the containers labelled with its project.
func ContainerID(project, service string) string { return project + "-" + service }

func containerID(project, service string) string { return ContainerID(project, service) }

// defaultRoot is the engine root whose objects keep containerd's default
// names (see engineScope).
const defaultRoot = "/var/lib/inception"

// engineScope names what the engine's containers share with every other
// containerd client of the host: the cgroup parent. The default engine
// keeps containerd's own (its namespace); any other engine adds a hash of
// its root, so two engines that use the same namespace name and run the
// same project never put two containers in one cgroup. runc's state is
// kept apart by its root under the engine's run dir (runcRoot).
func engineScope(root, namespace string) string {
	if filepath.Clean(root) == defaultRoot {
		return namespace
	}
	sum := sha256.Sum256([]byte(filepath.Clean(root)))
	return namespace + "-" + hex.EncodeToString(sum[:])[:8]
}

// runcRoot is runc's state directory for the engine's containers (runc
// adds the namespace): containerd's default, /run/containerd/runc, is one
// for every containerd of the host.
func runcRoot(runDir string) string { return filepath.Join(runDir, "runc") }

// projectDir is the directory of a project under one of the run dir's
// kinds (netns, probes, secrets).
func projectDir(runDir, kind, project string) string {
	return filepath.Join(runDir, kind, project)
}
