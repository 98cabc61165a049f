package api_test

import "github.com/toolhost/toolhost/host/store"

func storeFilter() store.RunFilter { return store.RunFilter{} }

func storePage() store.Page { return store.Page{Limit: 100} }
