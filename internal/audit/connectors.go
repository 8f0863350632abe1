package audit

// Actions and target of the directory connectors.
const (
	ActionConnectorAdd    = "connector.add"
	ActionConnectorRemove = "connector.remove"
	ActionDirectorySync   = "directory.sync" // a sync that could not reach a directory
	ActionUserLink        = "user.link"      // a local user linked to a connector identity
	TargetConnector       = "connector"
)
