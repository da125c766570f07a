import Hummingbird
import HummingbirdTesting
import Testing
import TierdeskModels
import TierdeskTestSupport

@testable import TierdeskKit

@Suite struct MethodNotAllowedTests {
    /// A router laid out as the services' are: problems outermost, this middleware, then routes.
    func makeRouter() -> Router<BasicRequestContext> {
        let router = Router()
        router.add(middleware: ProblemMiddleware())
        router.add(middleware: MethodNotAllowedMiddleware(router: router))
        router.get("v1/tickets") { _, _ in "list" }
        router.post("v1/tickets") { _, _ in "created" }
        router.get("v1/tickets/{id}") { _, context -> String in
            guard context.parameters.get("id") == "known" else { throw HTTPError(.notFound) }
            return "ticket"
        }
        router.post("v1/tickets/{id}/replies") { _, _ in "replied" }
        router.delete("v1/kb/articles/{id}") { _, _ in HTTPResponse.Status.noContent }
        return router
    }

    @Test func aKnownPathWithAnotherMethodIs405WithAllow() async throws {
        try await Application(router: makeRouter()).test(.router) { client in
            let response = try await client.execute(uri: "/v1/tickets", method: .init("TRACE")!)
            #expect(response.status == .methodNotAllowed)
            #expect(response.headers[.allow] == "GET, POST")
            let problem = try response.problem()
            #expect(problem.type == "https://tierdesk.dev/problems/method-not-allowed")
            #expect(problem.status == 405)
            #expect(problem.title == "Method not allowed")
        }
    }

    @Test func aTemplateSegmentMatchesAnyOneSegment() async throws {
        try await Application(router: makeRouter()).test(.router) { client in
            let replies = try await client.execute(uri: "/v1/tickets/0b7e/replies", method: .get)
            #expect(replies.status == .methodNotAllowed)
            #expect(replies.headers[.allow] == "POST")
            let article = try await client.execute(uri: "/v1/kb/articles/abc?x=1", method: .patch)
            #expect(article.status == .methodNotAllowed)
            #expect(article.headers[.allow] == "DELETE")
            let head = try await client.execute(uri: "/v1/tickets/abc", method: .head)
            #expect(head.status == .methodNotAllowed)
            #expect(head.headers[.allow] == "GET")
        }
    }

    @Test func unknownPathsAndMatchedRoutesStay404() async throws {
        try await Application(router: makeRouter()).test(.router) { client in
            // No route has this shape, whatever the method.
            for (uri, method) in [("/v1/nothing", HTTPRequest.Method.get), ("/v1/tickets/a/b/c", .post), ("/v1/tickets/a/replies/x", .post)] {
                let response = try await client.execute(uri: uri, method: method)
                #expect(response.status == .notFound, "\(method) \(uri)")
                #expect(response.headers[.allow] == nil)
                #expect(try response.problem().status == 404)
            }
            // The route matched with this method and its handler answered 404: not a 405.
            let unknownTicket = try await client.execute(uri: "/v1/tickets/unknown", method: .get)
            #expect(unknownTicket.status == .notFound)
            #expect(unknownTicket.headers[.allow] == nil)
            #expect(try await client.execute(uri: "/v1/tickets/known", method: .get).status == .ok)
        }
    }

    @Test func templatesMatchSegmentBySegment() {
        let template = RouterPath("v1/queues/{tier}/claim").components
        func segments(_ path: String) -> ArraySlice<Substring> { path.split(separator: "/")[...] }
        #expect(RouteTable<BasicRequestContext>.matches(template, segments("/v1/queues/1/claim")))
        #expect(RouteTable<BasicRequestContext>.matches(template, segments("/v1/queues/1/claim/")))
        #expect(!RouteTable<BasicRequestContext>.matches(template, segments("/v1/queues/1")))
        #expect(!RouteTable<BasicRequestContext>.matches(template, segments("/v1/queues/1/claim/x")))
        #expect(!RouteTable<BasicRequestContext>.matches(template, segments("/v2/queues/1/claim")))
    }
}
