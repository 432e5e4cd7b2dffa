// java-http and java-cds (one source, two builds). JDK com.sun.net.httpserver:
// GET / -> "ok", /json -> a JSON message, /health -> 200. With --train it
// answers one request to itself and exits, which is how java-cds's build
// records the AppCDS archive of the start-up classes.
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;

public class Server {
    private static void reply(HttpExchange ex, int status, String type, String body)
            throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().set("Content-Type", type);
        ex.sendResponseHeaders(status, bytes.length == 0 ? -1 : bytes.length);
        if (bytes.length > 0) {
            try (OutputStream os = ex.getResponseBody()) {
                os.write(bytes);
            }
        }
        ex.close();
    }

    public static void main(String[] args) throws Exception {
        boolean train = args.length > 0 && args[0].equals("--train");
        int port = train ? 0 : Integer.parseInt(System.getenv("PORT"));
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", port), 511);
        server.createContext("/", ex -> {
            String path = ex.getRequestURI().getPath();
            switch (path) {
                case "/" -> reply(ex, 200, "text/plain", "ok");
                case "/json" -> reply(ex, 200, "application/json", "{\"message\":\"Hello, World!\"}");
                case "/health" -> reply(ex, 200, "text/plain", "");
                default -> reply(ex, 404, "text/plain", "");
            }
        });
        server.start();
        if (train) {
            int p = server.getAddress().getPort();
            HttpClient client = HttpClient.newHttpClient();
            for (String path : new String[] {"/", "/json", "/health"})
                client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + p + path)).build(),
                        HttpResponse.BodyHandlers.ofString());
            server.stop(0);
            System.exit(0);
        }
    }
}
