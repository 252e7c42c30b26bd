// SPDX-License-Identifier: Apache-2.0

import BeaconConfd
import Testing

@Suite("Rendering templates")
struct TemplateRenderingTests {
    static let storyTemplate = """
        http {
            upstream backend {
                {{#values(test)}}
                server {{.}};
                {{/values(test)}}
            }
        }

        """

    @Test("The story's upstream: servers in key order, no blank lines")
    func storyUpstream() throws {
        let template = try ConfdTemplate(text: Self.storyTemplate, path: "nginx.conf.tmpl")
        let data = TemplateData(values: ["/test/apache-8002": "127.0.0.1:8002", "/test/apache-8001": "127.0.0.1:8001"])
        #expect(
            try template.render(data) == """
                http {
                    upstream backend {
                        server 127.0.0.1:8001;
                        server 127.0.0.1:8002;
                    }
                }

                """
        )
    }

    @Test("Values are not HTML-escaped")
    func plainText() throws {
        let template = try ConfdTemplate(text: "{{app.header}}", path: "t")
        #expect(try template.render(TemplateData(values: ["/app/header": "a&b <c> \"d\" 'e'"])) == "a&b <c> \"d\" 'e'")
    }

    @Test("A key that does not exist fails the render, naming the key")
    func missingKey() throws {
        let template = try ConfdTemplate(text: "server {{test.apache-8003}};", path: "nginx.conf.tmpl")
        let error = #expect(throws: ConfdError.self) {
            try template.render(TemplateData(values: ["/test/apache-8001": "127.0.0.1:8001"]))
        }
        #expect(error?.code == .missingKey)
        #expect(error?.key == "/test/apache-8003")
        #expect(error?.description.contains("nginx.conf.tmpl") == true)
        #expect(error?.description.contains("/test/apache-8003") == true)
    }

    @Test("A section on a missing key fails too; optional and exists mark a key as optional")
    func optionalKeys() throws {
        let data = TemplateData(values: ["/a": "1"])
        #expect(throws: ConfdError.self) { try ConfdTemplate(text: "{{#b}}x{{/b}}", path: "t").render(data) }
        #expect(try ConfdTemplate(text: "[{{optional(b)}}]", path: "t").render(data) == "[]")
        #expect(try ConfdTemplate(text: "[{{optional(a)}}]", path: "t").render(data) == "[1]")
        #expect(
            try ConfdTemplate(text: "{{#exists(b)}}yes{{/exists(b)}}{{^exists(b)}}no{{/exists(b)}}", path: "t").render(
                data
            )
                == "no"
        )
        #expect(try ConfdTemplate(text: "{{#exists(a)}}yes{{/exists(a)}}", path: "t").render(data) == "yes")
    }

    @Test("Listings under a key that does not exist are empty, as confd's getvs and ls are")
    func emptyListings() throws {
        let template = try ConfdTemplate(text: "[{{#values(none)}}{{.}}{{/values(none)}}]", path: "t")
        #expect(try template.render(TemplateData(values: [:])) == "[]")
    }

    @Test("pairs, all, children and dirs")
    func listings() throws {
        let data = TemplateData(values: [
            "/app/b": "2", "/app/a": "1", "/app/db/host": "h", "/app/db/port": "5432", "/app/a-b": "3",
        ])
        #expect(
            try ConfdTemplate(text: "{{#pairs(app)}}{{key}}={{value}};{{/pairs(app)}}", path: "t").render(data)
                == "/app/a=1;/app/a-b=3;/app/b=2;"
        )
        #expect(
            try ConfdTemplate(text: "{{#all(app)}}{{name}} {{/all(app)}}", path: "t").render(data)
                == "a a-b b host port "
        )
        #expect(
            try ConfdTemplate(text: "{{#children(app)}}{{.}} {{/children(app)}}", path: "t").render(data)
                == "a a-b b db "
        )
        #expect(try ConfdTemplate(text: "{{#dirs(app)}}{{.}}{{/dirs(app)}}", path: "t").render(data) == "db")
        #expect(try ConfdTemplate(text: "{{app.db.host}}:{{app.db.port}}", path: "t").render(data) == "h:5432")
    }

    @Test("Values decoded as JSON, and registrations as service instances")
    func json() throws {
        let data = TemplateData(values: [
            "/services/web/b": #"{"id":"b","service":"web","host":"::1","port":8002}"#,
            "/services/web/a": #"{"id":"a","service":"web","host":"127.0.0.1","port":8001,"metadata":{"zone":"z1"}}"#,
            "/config": #"{"name": "x", "ports": [1, 2], "tls": {"on": true}}"#,
        ])
        #expect(
            try ConfdTemplate(text: "{{#instances(services.web)}}{{address}} {{/instances(services.web)}}", path: "t")
                .render(data) == "127.0.0.1:8001 [::1]:8002 "
        )
        #expect(
            try ConfdTemplate(text: "{{#pairs(services.web)}}{{json.host}};{{/pairs(services.web)}}", path: "t")
                .render(data) == "127.0.0.1;::1;"
        )
        #expect(
            try ConfdTemplate(
                text: "{{#json(config)}}{{name}} {{#ports}}{{.}},{{/ports}}{{tls.on}}{{/json(config)}}",
                path: "t"
            )
            .render(data) == "x 1,2,true"
        )
        let missingField = #expect(throws: ConfdError.self) {
            try ConfdTemplate(text: "{{#json(config)}}{{port}}{{/json(config)}}", path: "t").render(data)
        }
        #expect(missingField?.code == .missingKey)
        #expect(missingField?.description.contains("field port of the JSON at /config") == true)
        let notJSON = #expect(throws: ConfdError.self) {
            try ConfdTemplate(text: "{{json(name)}}", path: "t").render(TemplateData(values: ["/name": "plain"]))
        }
        #expect(notJSON?.code == .invalidValue)
    }

    @Test("A function that does not exist is an error, not an empty string")
    func unknownFunction() throws {
        let error = #expect(throws: ConfdError.self) {
            try ConfdTemplate(text: "{{#valeus(test)}}{{.}}{{/valeus(test)}}", path: "t").render(
                TemplateData(values: ["/test/a": "1"])
            )
        }
        #expect(error?.description.contains("valeus") == true)
    }

    @Test("A template that does not parse: the error names the template, line and column")
    func parseError() {
        let error = #expect(throws: ConfdError.self) {
            try ConfdTemplate(text: "a\nb {{#values(test)}}\n{{/values(tset)}}\n", path: "templates/x.tmpl")
        }
        #expect(error?.code == .invalidTemplate)
        #expect(error?.file == "templates/x.tmpl")
        #expect(error?.line == 3)
    }

    @Test("A confd Go template is refused with a pointer to the migration table")
    func goTemplate() {
        let error = #expect(throws: ConfdError.self) {
            try ConfdTemplate(
                text: "upstream backend {\n    {{range getvs \"/test/*\"}}\n    server {{.}};\n    {{end}}\n}\n",
                path: "nginx.conf.tmpl"
            )
        }
        #expect(error?.code == .goTemplate)
        #expect(error?.line == 2)
        #expect(error?.description.contains("Documentation/Confd.md") == true)
        #expect(throws: ConfdError.self) { try ConfdTemplate(text: "{{getv \"/a\"}}", path: "t") }
        #expect(throws: ConfdError.self) { try ConfdTemplate(text: "{{.Key}}", path: "t") }
        #expect(throws: Never.self) { try ConfdTemplate(text: "{{#values(a)}}{{.}}{{/values(a)}}", path: "t") }
    }
}
