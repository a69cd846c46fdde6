package registry

import (
	"sync/atomic"

	"github.com/nacos-group/nacos-sdk-go/v2/clients/config_client"
	"github.com/nacos-group/nacos-sdk-go/v2/clients/naming_client"
	"github.com/nacos-group/nacos-sdk-go/v2/vo"
)

// CountSDKClients makes r count the SDK clients it builds. Call it before
// Run, ReadConfig or WatchConfig.
func CountSDKClients(r *Registry) (naming, config *atomic.Int32) {
	naming, config = new(atomic.Int32), new(atomic.Int32)
	next := r.sdk
	r.sdk.newNaming = func(p vo.NacosClientParam) (naming_client.INamingClient, error) {
		naming.Add(1)
		return next.newNaming(p)
	}
	r.sdk.newConfig = func(p vo.NacosClientParam) (config_client.IConfigClient, error) {
		config.Add(1)
		return next.newConfig(p)
	}
	return naming, config
}

// WrapNaming makes r build its naming clients through wrap. Call it
// before Run.
func WrapNaming(r *Registry, wrap func(naming_client.INamingClient) naming_client.INamingClient) {
	next := r.sdk.newNaming
	r.sdk.newNaming = func(p vo.NacosClientParam) (naming_client.INamingClient, error) {
		cl, err := next(p)
		if err != nil {
			return nil, err
		}
		return wrap(cl), nil
	}
}
