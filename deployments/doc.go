// Package deployments holds the deployment manifests (Kubernetes under
// kubernetes/, a local cluster in docker-compose.yaml) and the tests that
// check them, and the Dockerfile, against the code: no Docker engine runs
// here, so images are not built in tests.
package deployments
