// The same minimal API in every .NET image: GET / -> "ok", GET /json -> a JSON
// message, GET /health -> 200. No per-request logging.
using System.Text.Json.Serialization;

var builder = WebApplication.CreateSlimBuilder(args);
builder.Logging.ClearProviders();
builder.Services.ConfigureHttpJsonOptions(o =>
    o.SerializerOptions.TypeInfoResolverChain.Insert(0, AppJsonContext.Default));

var app = builder.Build();
app.MapGet("/", () => Results.Text("ok"));
app.MapGet("/json", () => new Message("Hello, World!"));
app.MapGet("/health", () => Results.Ok());
app.Run();

public record Message(string message);

[JsonSerializable(typeof(Message))]
internal partial class AppJsonContext : JsonSerializerContext { }
