namespace SensorHub.Server.Feeds;

/// <summary>Why <see cref="ReadingIngest"/> rejected one item or CSV row: a code from <c>SensorHubErrors</c> and a text for people.</summary>
/// <param name="Code">For machines: <c>invalid_argument</c>, <c>not_allowed</c>, <c>too_many_sensors</c> or <c>rate_limited</c>.</param>
/// <param name="Reason">For people; a <c>rate_limited</c> one ends with how long to wait.</param>
public readonly record struct ItemRejection(string Code, string Reason);
