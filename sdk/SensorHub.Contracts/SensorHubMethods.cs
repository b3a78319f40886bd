namespace SensorHub.Contracts;

/// <summary>The hub's method names, letter for letter as clients invoke them.</summary>
public static class SensorHubMethods
{
    /// <summary><c>IAsyncEnumerable&lt;Reading&gt; Subscribe(string sensorId, SubscribeOptions? options)</c>.</summary>
    public const string Subscribe = nameof(Subscribe);

    /// <summary><c>IAsyncEnumerable&lt;Reading[]&gt; SubscribeBatches(string sensorId, SubscribeOptions? options)</c>.</summary>
    public const string SubscribeBatches = nameof(SubscribeBatches);

    /// <summary>
    /// <c>IAsyncEnumerable&lt;Reading[]&gt; SubscribeMany(string pattern, SubscribeManyOptions? options)</c>: the readings
    /// of every sensor whose id matches an MQTT-style pattern (<see cref="SensorPattern"/>), sensors that appear later
    /// included, in batches of what is ready, in sequence order per sensor.
    /// </summary>
    public const string SubscribeMany = nameof(SubscribeMany);

    /// <summary><c>Task&lt;SensorPage&gt; ListSensors(SensorQuery? query)</c>: one page of the sensors the caller may read, by id.</summary>
    public const string ListSensors = nameof(ListSensors);

    /// <summary><c>Task&lt;PublishResult&gt; Publish(IAsyncEnumerable&lt;ReadingInput&gt; readings)</c>.</summary>
    public const string Publish = nameof(Publish);

    /// <summary>
    /// <c>Task&lt;PublishResult&gt; PublishBatches(IAsyncEnumerable&lt;ReadingInput[]&gt; batches)</c>: <see cref="Publish"/>
    /// with several readings in each stream item, for gateways that send many readings at a time.
    /// </summary>
    public const string PublishBatches = nameof(PublishBatches);

    /// <summary><c>Task&lt;UploadStatus&gt; BeginUpload(UploadRequest request)</c>.</summary>
    public const string BeginUpload = nameof(BeginUpload);

    /// <summary><c>Task&lt;UploadResult&gt; Upload(string uploadId, long offset, IAsyncEnumerable&lt;byte[]&gt; chunks)</c>.</summary>
    public const string Upload = nameof(Upload);

    /// <summary><c>Task&lt;UploadStatus&gt; GetUploadStatus(string uploadId)</c>.</summary>
    public const string GetUploadStatus = nameof(GetUploadStatus);

    /// <summary><c>IAsyncEnumerable&lt;UploadStatus&gt; WatchUpload(string uploadId)</c>.</summary>
    public const string WatchUpload = nameof(WatchUpload);

    /// <summary><c>IAsyncEnumerable&lt;byte[]&gt; Download(string uploadId, long offset)</c>.</summary>
    public const string Download = nameof(Download);

    /// <summary><c>Task&lt;IReadOnlyList&lt;UploadStatus&gt;&gt; ListUploads()</c>.</summary>
    public const string ListUploads = nameof(ListUploads);

    /// <summary><c>Task&lt;SessionInfo&gt; CreateSession(CreateSessionRequest request)</c>.</summary>
    public const string CreateSession = nameof(CreateSession);

    /// <summary><c>IAsyncEnumerable&lt;SessionEvent&gt; JoinSession(string sessionId)</c>: a snapshot, then the session's events.</summary>
    public const string JoinSession = nameof(JoinSession);

    /// <summary><c>Task Annotate(string sessionId, AnnotationInput input)</c>.</summary>
    public const string Annotate = nameof(Annotate);

    /// <summary><c>Task SetSessionSensors(string sessionId, string[] sensorIds)</c>.</summary>
    public const string SetSessionSensors = nameof(SetSessionSensors);

    /// <summary><c>Task EndSession(string sessionId)</c>.</summary>
    public const string EndSession = nameof(EndSession);

    /// <summary><c>Task&lt;IReadOnlyList&lt;SessionInfo&gt;&gt; ListSessions()</c>.</summary>
    public const string ListSessions = nameof(ListSessions);
}
