using SensorHub.Server;

var builder = WebApplication.CreateBuilder(args);

builder.AddSensorHub();

var app = builder.Build();

app.MapSensorHub();

app.Run();
