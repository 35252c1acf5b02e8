// Package syncdef reads sync definitions: the syncs/*.yml files of a project, each with one or
// more entries under `syncs:` that say which model goes to which destination, keyed how, in
// which mode, with which field mapping, schedule, consent purpose and guards.
//
// Parsing reports every problem at once with file:line and a fix ("did you mean"), using the
// config package's YAML reader. When given a destination registry it also checks each
// destination against its Spec: the type exists, config fields are known and required ones
// present, secrets come from ${ENV}, the mode is supported and batch_size is within the limit.
// ${VAR} references are kept as written and expanded only when a sync runs (Destination.Expand),
// so listing or planning syncs never needs their secrets.
//
// The package is plain data: it knows nothing of warehouses or how a sync runs.
package syncdef
