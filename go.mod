module github.com/plangate/plangate

go 1.26.8

require (
	github.com/beevik/etree v1.8.1
	github.com/julienschmidt/httprouter v1.3.0
	github.com/kolo/xmlrpc v0.0.0-20220921171641-a4b6fa1dd06b
	go.etcd.io/bbolt v1.5.0
	golang.org/x/text v0.43.0
	gopkg.in/yaml.v3 v3.0.1
)

require golang.org/x/sys v0.45.0 // indirect
