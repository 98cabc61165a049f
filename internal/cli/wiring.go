package cli

import "github.com/toolhost/toolhost/host/api"

type threadRoutes = api.ThreadRoutes
