//! The one catalogue of UI strings, in English and Simplified Chinese, and the language switch's
//! state. Every text the UI shows comes from here; [`t`] reads the current language reactively, so
//! a view that calls it inside a closure follows the switch.
//!
//! Words follow the product glossary: Job 任务, Folder 目录, Instance 实例,
//! Attempt 执行记录, Worker 执行机器, Host group 机器组, Business time 业务时间.

use app::domain::{
    BackfillOrder, BackfillVersion, CalendarMode, DayKind, DependencyWindow, MisfirePolicy, OnSkip,
    OverlapPolicy, RetryBackoff, TriggerKind,
};
use leptos::prelude::*;

use crate::app::AppState;

/// A UI language.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lang {
    /// English.
    En,
    /// Simplified Chinese.
    Zh,
}

impl Lang {
    /// The BCP 47 tag, also what localStorage remembers.
    pub fn tag(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Zh => "zh-CN",
        }
    }

    /// The language for a tag such as `zh-CN`, `zh` or `en-GB`; English unless Chinese.
    pub fn from_tag(tag: &str) -> Lang {
        if tag.to_ascii_lowercase().starts_with("zh") {
            Lang::Zh
        } else {
            Lang::En
        }
    }
}

macro_rules! catalogue {
    ($($key:ident => $en:literal, $zh:literal;)+) => {
        /// A UI string.
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum K {
            $(#[doc = concat!("`", stringify!($key), "`: ", $en)] $key,)+
        }

        impl K {
            /// Every key, in catalogue order.
            #[cfg_attr(not(test), allow(dead_code))]
            pub const ALL: &'static [K] = &[$(K::$key),+];

            /// The text in `lang`.
            pub fn text(self, lang: Lang) -> &'static str {
                match (self, lang) {
                    $((K::$key, Lang::En) => $en, (K::$key, Lang::Zh) => $zh,)+
                }
            }
        }
    };
}

catalogue! {
    // Shell and navigation
    NavJobs => "Jobs", "任务";
    NavCluster => "Cluster", "集群";
    NavCalendars => "Calendars", "日历";
    NavBackfills => "Backfills", "补数据";
    NavTimeline => "Timeline", "时间线";
    NavIde => "Dev center", "开发中心";
    TopSearch => "Search jobs, scripts, configs…", "搜索任务、脚本、配置…";
    Logout => "Log out", "退出";
    Tagline => "Distributed job scheduler", "分布式任务调度";
    ThemeDark => "Switch to the dark theme", "切换到深色主题";
    ThemeLight => "Switch to the light theme", "切换到浅色主题";
    NotFoundTitle => "Nothing here", "页面不存在";
    BackHome => "Back to the start page", "返回首页";
    // Login
    Username => "User name", "用户名";
    Password => "Password", "密码";
    SignIn => "Sign in", "登录";
    // Accounts
    CreateAccountLink => "Create an account", "注册账号";
    AccountPendingMessage => "this account is waiting for an administrator's approval", "此账号正在等待管理员审批";
    AccountDisabledMessage => "this account is disabled; ask an administrator to enable it", "此账号已停用，请联系管理员启用";
    SessionEndedMessage => "You were signed out: the password was changed or all sessions were ended. Sign in again.", "您已退出登录：密码已修改或所有会话已结束，请重新登录。";
    TooManyAttemptsMessage => "Too many failed attempts from this address. Wait a few minutes, then try again.", "此地址失败次数过多，请等几分钟后再试。";
    HaveAccountLink => "Already have an account? Sign in", "已有账号？登录";
    RegisterTitle => "Create an account", "注册账号";
    RegisterHint => "An administrator approves new accounts before they can sign in.", "新账号需经管理员审批后才能登录。";
    RegisterSubmit => "Create the account", "创建账号";
    RepeatPassword => "Repeat the password", "再次输入密码";
    PasswordsDiffer => "The two passwords differ.", "两次输入的密码不一致。";
    UsernameRule => "2–64 letters, digits, “.”, “_” or “-”.", "2–64 个字母、数字、“.”、“_” 或 “-”。";
    PasswordRule => "At least 8 characters.", "至少 8 个字符。";
    Registered => "The account {name} was created. It waits for an administrator's approval: you can sign in once it is approved.", "账号 {name} 已创建，正在等待管理员审批，审批通过后即可登录。";
    BackToSignIn => "Back to sign in", "返回登录";
    NavUsers => "Users", "用户";
    UsersHint => "Accounts, their role and status. New registrations wait here for approval.", "账号及其角色和状态。新注册的账号在此等待审批。";
    Role => "Role", "角色";
    Status => "Status", "状态";
    Created => "Created", "创建时间";
    RoleAdmin => "Administrator", "管理员";
    RoleUser => "User", "普通用户";
    StActive => "active", "已启用";
    StPending => "waiting for approval", "待审批";
    StDisabled => "disabled", "已停用";
    Approve => "Approve", "批准";
    Disable => "Disable", "停用";
    Enable => "Enable", "启用";
    MakeAdmin => "Make admin", "设为管理员";
    RemoveAdmin => "Remove admin", "取消管理员";
    You => "you", "你";
    NoUsers => "No accounts.", "没有账号。";
    AddUser => "Add user", "添加用户";
    AddUserHint => "Accounts added here are active at once.", "在此添加的账号立即可用。";
    AsAdmin => "Administrator", "管理员";
    UserAdded => "Account {name} added.", "已添加账号 {name}。";
    AccountTitle => "My account", "我的账号";
    ChangePassword => "Change password", "修改密码";
    CurrentPassword => "Current password", "当前密码";
    NewPassword => "New password", "新密码";
    PasswordChanged => "Your password was changed, and your other sessions were signed out. Use the new password the next time you sign in.", "密码已修改，其他会话已退出。下次登录请使用新密码。";
    OtherSessions => "Other sessions", "其他会话";
    OtherSessionsHint => "Signed in on another computer or browser you no longer use? Sign out there from here; this page stays signed in.", "在不再使用的电脑或浏览器上仍处于登录状态？可在此让它们退出；本页面保持登录。";
    EndOtherSessions => "Sign out everywhere else", "退出其他所有会话";
    OtherSessionsEnded => "Every other session was signed out.", "其他所有会话均已退出。";
    AccountRoleLine => "Signed in as {name} ({role}).", "当前登录：{name}（{role}）。";
    // Generic
    Loading => "Loading…", "加载中…";
    LoadFailed => "Could not load", "加载失败";
    NetworkError => "Cannot reach the server", "无法连接服务器";
    NothingYet => "Nothing yet", "暂无数据";
    NoMatch => "No match", "无匹配项";
    Create => "Create", "创建";
    Save => "Save", "保存";
    Saving => "Saving…", "保存中…";
    Cancel => "Cancel", "取消";
    Edit => "Edit", "编辑";
    Remove => "Remove", "移除";
    Delete => "Delete", "删除";
    Close => "Close", "关闭";
    Details => "Details", "详情";
    When => "When", "时间";
    Who => "Who", "操作人";
    ReasonOptional => "Reason (optional, recorded with your name)", "原因（选填，将与你的用户名一并记录）";
    Yes => "Yes", "是";
    No => "No", "否";
    Empty => "", ""; // a column without a heading
    // Tree
    SearchJobs => "Search jobs by name or id", "按名称或 ID 搜索任务";
    NewFolder => "+ Folder", "+ 目录";
    NewJob => "+ Job", "+ 任务";
    NewJobHere => "New job in this folder", "在此目录新建任务";
    FolderName => "Folder name", "目录名称";
    TopLevel => "(top level)", "（顶层）";
    TreeEmpty => "No folders yet. Create one to start.", "还没有目录，先创建一个。";
    // Home
    Folders => "Folders", "目录";
    Jobs => "Jobs", "任务";
    WorkersConnected => "Workers connected", "在线执行机器";
    DashboardHint => "Today's instances by business time, live.", "今日实例（按业务时间），实时更新。";
    RunningNow => "Running now", "正在运行";
    NothingRunning => "Nothing is running", "没有正在运行的实例";
    FailuresToday => "Failures today", "今日失败";
    NoFailuresToday => "No failures today", "今日没有失败";
    Trend7Days => "Last 7 days", "最近 7 天";
    TrendTip => "{date}: {success} succeeded, {failed} failed", "{date}：成功 {success}，失败 {failed}";
    LongestRuns => "Longest runs today", "今日最长运行";
    Yesterday => "Yesterday", "昨天";
    Change => "Change", "变化";
    // Job editor and summary
    Name => "Name", "名称";
    Folder => "Folder", "目录";
    ChooseFolder => "Choose a folder…", "选择目录…";
    Description => "Description", "描述";
    JobType => "Type", "类型";
    Script => "Script", "脚本";
    Configs => "Configs", "配置项";
    ConfigsHint => "The script reads them as ${key}.", "脚本中以 ${key} 引用。";
    ConfigKey => "key", "键";
    ConfigValue => "value", "值";
    AddConfig => "+ Config", "+ 配置项";
    ConfigKeyRule => "Use 1–128 letters, digits, _, . or -", "键须为 1–128 个字母、数字、_、. 或 -";
    ConfigKeyDuplicate => "This key is used twice", "键重复";
    ConfigValueTooLong => "The value is longer than 64 KiB", "值超过 64 KiB";
    ConfigsInvalid => "Some configs are not valid.", "部分配置项无效。";
    Cron => "Cron", "Cron 表达式";
    TimeZone => "Time zone", "时区";
    NextFireTimes => "Next fire times", "接下来的触发时间";
    NoSchedule => "No cron: runs when triggered or when its dependencies finish.",
        "无 Cron：手动触发或依赖完成后运行。";
    Schedule => "Schedule", "调度";
    Next => "next", "下次";
    Dependencies => "Dependencies", "依赖";
    DepWindowHint => "Which instances of this upstream job each instance waits for",
        "每个实例等待该上游任务的哪些实例";
    WinSameDay => "same day (all)", "同一天（全部）";
    WinLastOfDay => "same day (last run)", "同一天（最后一次）";
    WinPreviousDay => "previous day (T−1)", "前一天（T−1）";
    WinSameHour => "same hour", "同一小时";
    WinShortLastOfDay => "last run of the day", "当天最后一次";
    WinShortPreviousDay => "T−1", "T−1";
    WinShortSameHour => "same hour", "同一小时";
    OnSkipHint => "If an instance of this upstream job is skipped", "该上游任务的实例被跳过时";
    OnSkipDone => "if skipped: counts as done", "上游跳过：视为完成";
    OnSkipPropagate => "if skipped: skip too", "上游跳过：一并跳过";
    OnSkipShortPropagate => "skip propagates", "跳过传递";
    BusinessCalendar => "Business calendar", "业务日历";
    NoCalendar => "(none)", "（无）";
    CalendarModeLabel => "Run on", "运行日";
    CalModeIgnore => "every day (calendar ignored)", "每天（忽略日历）";
    CalModeWorking => "working days only", "仅工作日";
    CalModeNonWorking => "non-working days only", "仅非工作日";
    SelfDependentHint => "Wait for this job's previous instance (self-dependency)",
        "等待本任务上一实例完成（自依赖）";
    SelfDependent => "Self-dependency", "自依赖";
    HostGroup => "Host group", "机器组";
    RetryCount => "Retries", "重试次数";
    RetryDelay => "Retry delay (s)", "重试间隔（秒）";
    Retries => "Retries", "重试";
    Enabled => "Enabled", "启用";
    EnabledHint => "Schedule creates instances", "按调度生成实例";
    DisableWarning => "These jobs depend on this one: {jobs}. While it is disabled they run without waiting for it.",
        "以下任务依赖此任务：{jobs}。停用期间它们不再等待此任务。";
    DependentJob => "{name} (#{id})", "{name}（#{id}）";
    ListSeparator => ", ", "、";
    Priority => "Priority", "优先级";
    PriorityLow => "lowest", "最低";
    PriorityHigh => "highest", "最高";
    Overlap => "If the previous instance is still active", "上一实例仍在运行时";
    OverlapAllow => "run both", "同时运行";
    OverlapSkip => "skip the new one", "跳过新实例";
    OverlapQueue => "run after it", "排队等待";
    Misfire => "Missed schedules (after downtime)", "错过的调度（停机后）";
    MisfireOnce => "run the latest once", "只补跑最近一次";
    MisfireSkip => "skip them", "全部跳过";
    MisfireCatchUp => "run all, oldest first", "全部补跑（从旧到新）";
    Policies => "Policies", "策略";
    Owner => "Owner", "负责人";
    Version => "Version", "版本";
    Required => "Required", "必填";
    WholeNumber => "A whole number, 0 or more", "请输入不小于 0 的整数";
    FixFields => "Please fix the marked fields.", "请修正标出的字段。";
    // Job page
    RunNow => "Run now", "立即运行";
    Pause => "Pause", "暂停";
    Resume => "Resume", "恢复";
    PausedSince => "Paused since {at}", "自 {at} 起暂停";
    PauseQuestion => "Pause job {name}? No new instances are created until it is resumed; its downstream keeps waiting for it.",
        "暂停任务 {name}？恢复前不再生成新实例，下游继续等待它。";
    ResumeQuestion => "Resume job {name}? The schedules missed meanwhile follow its misfire policy.",
        "恢复任务 {name}？暂停期间错过的调度按错过策略处理。";
    RunWithParams => "Run with parameters…", "带参数运行…";
    RunParamsTitle => "Run {name} with parameters", "带参数运行 {name}";
    Params => "Parameters", "参数";
    ParamsHint => "Environment variables of this run only; the job is not changed.",
        "仅本次运行的环境变量，不修改任务定义。";
    AddParam => "+ Parameter", "+ 参数";
    ParamName => "NAME", "名称";
    ParamNameRule => "Letters, digits and _, not starting with a digit or HERA_",
        "须为字母、数字和 _，不能以数字或 HERA_ 开头";
    BusinessTimeOptional => "Business time (optional, default now), in {zone}", "业务时间（选填，默认当前时间），时区 {zone}";
    Run => "Run", "运行";
    InstanceCalendar => "Instances by business day", "按业务日期查看实例";
    TimesInZone => "times in {zone}", "时间为 {zone}";
    Today => "Today", "今天";
    PrevMonth => "Previous month", "上个月";
    NextMonth => "Next month", "下个月";
    MonthTruncated => "Only the first {n} instances of this month are shown.", "仅显示本月前 {n} 个实例。";
    PickInstanceHint => "Click an instance in the calendar to see it and act on it.",
        "点击日历中的实例以查看和操作。";
    RecentInstances => "Recent instances", "最近实例";
    BackfillLink => "Backfill…", "补数据…";
    Activity => "Activity", "操作记录";
    NoActivity => "Nothing has been done yet.", "暂无操作记录。";
    NotRunYet => "This instance has not run yet.", "该实例尚未运行。";
    DeleteJob => "Delete", "删除";
    DeleteJobQuestion => "Delete job {name}? Its waiting and queued instances are cancelled; its history stays.",
        "删除任务 {name}？等待中和排队中的实例将被取消，历史记录保留。";
    DeleteDependents => "These jobs depend on it: {jobs}. It cannot be deleted until their dependency on it is removed.",
        "以下任务依赖此任务：{jobs}。需先移除它们对此任务的依赖，才能删除。";
    DeleteNoDependents => "No other job depends on it.", "没有其他任务依赖此任务。";
    CopyJob => "Copy", "复制";
    CopyJobTitle => "Copy job {name}", "复制任务 {name}";
    CopyNote => "A copy of {name} (#{id}). Its secrets are not copied (they cannot be read back): add them on the new job's page after saving.",
        "这是 {name}（#{id}）的副本。密钥不会被复制（密钥只能写入、无法读取），请在保存后到新任务页面重新添加。";
    Dag => "DAG", "依赖图";
    Instances => "Instances", "实例";
    NoInstances => "No instances yet. Run the job or wait for its schedule.",
        "暂无实例。立即运行或等待调度。";
    Instance => "Instance", "实例";
    Attempt => "Attempt", "执行记录";
    BusinessTime => "Business time", "业务时间";
    Trigger => "Trigger", "触发方式";
    State => "State", "状态";
    Worker => "Worker", "执行机器";
    ExitCode => "Exit code", "退出码";
    Started => "Started", "开始时间";
    Finished => "Finished", "结束时间";
    Duration => "Duration", "耗时";
    Log => "Log", "日志";
    // Why an instance has not started (a panel under its row)
    Why => "Why?", "为何未运行？";
    UpstreamDone => "done", "已完成";
    UpstreamNotDone => "not done", "未完成";
    NoInstanceYetDue => "no instance yet, due at {at}", "尚无实例，预计 {at} 触发";
    NoInstanceYet => "no instance yet", "尚无实例";
    QueuePosition => "Queue: position {n} of {m}", "队列：第 {n} 位，共 {m} 个";
    HostGroupCapacity => "Host group {group}: {workers}, {slots}", "机器组 {group}：{workers}，{slots}";
    WorkersConnectedOne => "1 worker connected", "1 台执行机器在线";
    WorkersConnectedMany => "{n} workers connected", "{n} 台执行机器在线";
    FreeSlotsOne => "1 free slot", "1 个空闲槽位";
    FreeSlotsMany => "{n} free slots", "{n} 个空闲槽位";
    RetryAt => "Retry at {at}", "将于 {at} 重试";
    // Instance actions (a panel under its row)
    Actions => "Actions", "操作";
    RunAgain => "Run again", "再次运行";
    SetState => "Set state", "设置状态";
    Rerun => "Rerun", "重跑";
    RerunRecover => "Recover (rerun + release downstream)", "恢复（重跑并释放下游）";
    RerunCascade => "Cascade (rerun with all downstream)", "级联重跑（含全部下游）";
    CascadeQuestion => "Rerun instance #{id} and its whole downstream, each job once in dependency order? This can start many runs.",
        "重跑实例 #{id} 及其全部下游（每个任务一次，按依赖顺序）？这可能启动大量运行。";
    Stop => "Stop", "停止";
    CancelInstance => "Cancel instance", "取消实例";
    ForceSuccess => "Mark success", "标记成功";
    ForceFailed => "Mark failed", "标记失败";
    ForceSkip => "Skip", "跳过";
    ForceQuestion => "Mark instance #{id} as {state}", "将实例 #{id} 标记为{state}";
    Reason => "Reason", "原因";
    ReasonPlaceholder => "Reason (required, recorded with your name)", "原因（必填，将与你的用户名一并记录）";
    Confirm => "Confirm", "确认";
    // Log
    LogLive => "Live", "实时";
    LogReconnecting => "Reconnecting…", "重新连接中…";
    LogComplete => "Complete", "已结束";
    Lines => "lines", "行";
    Follow => "Follow", "自动滚动";
    LinesHidden => "{n} earlier lines are not kept", "前面 {n} 行未保留";
    SearchLog => "Search the log", "搜索日志";
    PreviousMatch => "Previous match (Shift+Enter)", "上一个匹配（Shift+Enter）";
    NextMatch => "Next match (Enter)", "下一个匹配（Enter）";
    FirstError => "First error", "第一个错误";
    NoErrorFound => "No error found", "未发现错误";
    Download => "Download", "下载";
    Downloading => "Downloading…", "下载中…";
    FullScreen => "Full screen", "全屏";
    ExitFullScreen => "Exit full screen", "退出全屏";
    LineCut => "… ({size} more)", "…（还有 {size}）";
    AttemptMissing => "This attempt cannot be shown", "无法显示此执行记录";
    // DAG
    DagHint => "Click a job for details; double-click to show its neighbours.", "单击任务查看详情；双击显示其相邻任务。";
    DagExpandOne => "Expand one level", "展开一层";
    DagExpandAll => "Expand all", "全部展开";
    DagRelayout => "Re-layout", "重新布局";
    DagRelayoutHint => "Lay the whole graph out again (expanding keeps the nodes where they are)", "重新排列整个图（展开时已有节点保持原位）";
    DagFit => "Fit", "适应窗口";
    DagFitHint => "Show the whole graph", "显示整个图";
    DagShownOf => "{n} of {m} jobs shown", "显示 {n} / {m} 个任务";
    DagBusinessDate => "Business date ({zone})", "业务日期（{zone}）";
    DagSearch => "Search the graph", "在图中搜索";
    DagNoMatch => "No match", "无匹配";
    DagMatchOf => "{i} of {n}", "第 {i} 个，共 {n} 个";
    DagNoInstance => "no instance", "无实例";
    DagWhy => "Why it has not started", "为何未开始";
    DagLastLog => "Last log lines", "最近的日志";
    DagNoLog => "No log yet.", "暂无日志。";
    DagLogCut => "The log is long: these are the last lines of its first 2 MB.", "日志较长：以下为前 2 MB 的最后几行。";
    DagOpenLog => "Open the whole log", "打开完整日志";
    // Month grids
    MonthTitle => "{month} {year}", "{year}年{month}";
    M1 => "January", "1月";
    M2 => "February", "2月";
    M3 => "March", "3月";
    M4 => "April", "4月";
    M5 => "May", "5月";
    M6 => "June", "6月";
    M7 => "July", "7月";
    M8 => "August", "8月";
    M9 => "September", "9月";
    M10 => "October", "10月";
    M11 => "November", "11月";
    M12 => "December", "12月";
    Wd1 => "Mon", "周一";
    Wd2 => "Tue", "周二";
    Wd3 => "Wed", "周三";
    Wd4 => "Thu", "周四";
    Wd5 => "Fri", "周五";
    Wd6 => "Sat", "周六";
    Wd7 => "Sun", "周日";
    // Calendars
    Calendars => "Business calendars", "业务日历";
    CalendarsHint => "Working days for jobs whose schedule follows a calendar.", "为按日历调度的任务定义工作日。";
    NewCalendar => "+ Calendar", "+ 日历";
    NoCalendars => "No calendars yet.", "还没有日历。";
    Weekend => "Weekend", "周末";
    Holidays => "Holidays", "节假日";
    Workdays => "Make-up workdays", "调休工作日";
    UsedBy => "Used by", "使用的任务";
    NotUsed => "No job uses it.", "没有任务使用。";
    Updated => "Updated", "更新时间";
    CalendarHint => "Click a day: a working day becomes a holiday, a weekend day a make-up workday; click an exception again to remove it.",
        "点击日期：工作日设为节假日，周末设为调休工作日；再次点击例外日期即移除。";
    PrevYear => "Previous year", "上一年";
    NextYear => "Next year", "下一年";
    DayWorking => "working day", "工作日";
    DayWeekend => "weekend", "周末";
    DayHoliday => "holiday", "节假日";
    DayWorkday => "make-up workday", "调休工作日";
    ExceptionsIn => "Exceptions in {year}", "{year} 年的例外日期";
    NoExceptions => "No exceptions in this year.", "本年没有例外日期。";
    Date => "Date", "日期";
    Kind => "Kind", "类型";
    Note => "Note", "备注";
    Unsaved => "Unsaved changes", "有未保存的修改";
    ImportTitle => "Import (CSV or iCalendar)", "导入（CSV 或 iCalendar）";
    ImportHint => "CSV lines: date,holiday|workday[,note]. Choose a file or paste its text. The import applies to the saved calendar.",
        "CSV 每行：日期,holiday|workday[,备注]。选择文件或粘贴内容。导入作用于已保存的日历。";
    ImportFormat => "Format", "格式";
    ImportText => "Paste CSV or iCalendar text here", "在此粘贴 CSV 或 iCalendar 内容";
    ReplaceExisting => "Replace existing exceptions", "替换现有例外日期";
    Import => "Import", "导入";
    Imported => "Imported: holidays {holidays}, make-up workdays {workdays}.", "已导入：节假日 {holidays} 个，调休工作日 {workdays} 个。";
    PlusDownstream => "+ downstream", "+ 下游";
    DeleteCalendarQuestion => "Delete calendar {name}?", "删除日历 {name}？";
    // Backfills
    Backfills => "Backfills", "补数据";
    Backfill => "Backfill", "补数据";
    NewBackfill => "New backfill", "新建补数据";
    NoBackfills => "No backfills yet.", "暂无补数据。";
    Job => "Job", "任务";
    ChooseJob => "Choose a job…", "选择任务…";
    Range => "Business times", "业务时间";
    Progress => "Progress", "进度";
    StartedBy => "Started by", "发起人";
    IncludeDownstream => "Include downstream jobs", "包含下游任务";
    IncludeDownstreamHint => "Their instances of the same business times run too, after the upstream ones of their window.",
        "同一业务时间的下游实例也会运行，在其窗口内的上游实例之后。";
    ByDates => "Date range", "日期范围";
    ByTimes => "List of business times", "指定业务时间";
    StartDate => "Start date", "开始日期";
    EndDate => "End date", "结束日期";
    EndBeforeStart => "The end date is before the start date", "结束日期早于开始日期";
    TimesHint => "One per line: YYYY-MM-DD HH:MM[:SS] in the job's time zone ({zone}), or RFC 3339.",
        "每行一个：YYYY-MM-DD HH:MM[:SS]（任务时区 {zone}）或 RFC 3339。";
    BadTime => "Not a business time: {line}", "无法识别的业务时间：{line}";
    Settings => "Settings", "设置";
    Parallelism => "Parallelism", "并行度";
    Order => "Order", "顺序";
    OrderOldest => "oldest first", "从旧到新";
    OrderNewest => "newest first", "从新到旧";
    VersionChoice => "Job version", "任务版本";
    VersionLatest => "the latest version", "最新版本";
    VersionPinned => "the version of its time", "当时的版本";
    Preview => "Preview (dry run)", "预览（试运行）";
    StartBackfill => "Start backfill", "开始补数据";
    PreviewFirst => "Preview first: the plan shows what will run.", "请先预览：计划会列出将运行的实例。";
    PlanToRun => "{n} instances will run", "将运行 {n} 个实例";
    PlanEmpty => "Nothing in this range.", "该范围内没有实例。";
    PlanCounts => "{create} new · {rerun} rerun · {leave} left alone", "新建 {create} · 重跑 {rerun} · 保留 {leave}";
    ActCreate => "create", "新建";
    ActRerun => "rerun", "重跑";
    ActLeave => "leave (active)", "保留（运行中）";
    RerunFailed => "Rerun failed", "重跑失败实例";
    CancelBackfill => "Cancel backfill", "取消补数据";
    DoneOf => "{done} of {total} done", "已完成 {done} / {total}";
    // Audit trail actions
    AuJobCreate => "create job", "创建任务";
    AuJobUpdate => "edit job", "修改任务";
    AuJobDelete => "delete job", "删除任务";
    AuJobPause => "pause job", "暂停任务";
    AuJobResume => "resume job", "恢复任务";
    AuJobRun => "run job", "运行任务";
    AuInstanceRerun => "rerun instance", "重跑实例";
    AuInstanceForce => "set instance state", "设置实例状态";
    AuInstanceCancel => "cancel instance", "取消实例";
    AuBackfillStart => "start backfill", "开始补数据";
    AuBackfillPause => "pause backfill", "暂停补数据";
    AuBackfillResume => "resume backfill", "恢复补数据";
    AuBackfillCancel => "cancel backfill", "取消补数据";
    AuBackfillRerunFailed => "rerun failed instances of backfill", "补数据重跑失败实例";
    AuCalendarCreate => "create calendar", "创建日历";
    AuCalendarUpdate => "edit calendar", "修改日历";
    AuCalendarImport => "import into calendar", "导入日历";
    AuCalendarDelete => "delete calendar", "删除日历";
    // Cluster
    Host => "Host", "主机";
    Slots => "Slots", "槽位";
    Running => "Running", "运行中";
    Cpu => "CPU", "CPU";
    Memory => "Memory", "内存";
    Load => "Load", "负载";
    LastSeen => "Last seen", "最后心跳";
    NoWorkers => "No workers have registered.", "还没有执行机器注册。";
    Draining => "draining", "排空中";
    Drain => "Drain", "排空";
    Undrain => "Undrain", "恢复接单";
    DrainQuestion => "Drain worker {name}? It takes no new attempts; the running ones finish.", "排空执行机器 {name}？它不再接收新的执行，运行中的会继续完成。";
    UndrainQuestion => "Take worker {name} back? It gets new attempts again.", "恢复执行机器 {name}？它会重新接收新的执行。";
    OnWorker => "On {name}", "在 {name} 上";
    NoAttemptsRunning => "idle", "空闲";
    SparkCpu => "CPU of the last {m} min, now {v}", "最近 {m} 分钟的 CPU，当前 {v}";
    SparkMemory => "Memory of the last {m} min, now {v}", "最近 {m} 分钟的内存，当前 {v}";
    SparkLoad => "1-minute load of the last {m} min, now {v}", "最近 {m} 分钟的 1 分钟负载，当前 {v}";
    ClusterHint => "Load of the last 10 minutes (one sample per heartbeat), refreshed every 5 s.", "最近 10 分钟的负载（每次心跳一个采样），每 5 秒刷新。";
    Queue => "Queue", "队列";
    QueueCount => "{n} waiting for a worker slot", "{n} 个在等待执行槽位";
    QueueEmpty => "Nothing waits for a worker.", "没有等待执行机器的实例。";
    QueueShown => "the first {n} shown", "显示前 {n} 个";
    Position => "#", "#";
    WaitingFor => "Waiting for", "等待原因";
    // Timeline
    Timeline => "Timeline", "时间线";
    TimelineHint => "When each attempt of a folder's instances of one business date ran.", "某个业务日期下目录内各实例的执行记录何时运行。";
    BusinessDate => "Business date", "业务日期";
    TimelineChoose => "Choose a folder to see its instances.", "选择一个目录以查看其实例。";
    TimelineEmpty => "This folder has no instances of this business date.", "该目录在此业务日期没有实例。";
    TimelineRows => "{n} instances", "{n} 个实例";
    TimelineJobTime => "Job · business time", "任务 · 业务时间";
    TimelineNotStarted => "not started", "未开始";
    TimelineNow => "now", "现在";
    TimelineBarLabel => "{job}, attempt {n}: {state}, from {from} to {to}. Opens the log",
        "{job}，执行记录 {n}：{state}，从 {from} 到 {to}。打开日志";
    TimelineBarLabelRunning => "{job}, attempt {n}: {state}, since {from}. Opens the log",
        "{job}，执行记录 {n}：{state}，开始于 {from}。打开日志";
    TimelineTip => "{job} · {time}\nAttempt {n}: {state}\n{from} → {to} ({duration})\nWorker: {worker}\nClick to open the log", "{job} · {time}\n执行记录 {n}：{state}\n{from} → {to}（{duration}）\n执行机器：{worker}\n点击打开日志";
    TimesShownIn => "Times in {zone}", "时间为 {zone}";
    // Search
    SearchTitle => "Search", "搜索";
    SearchPlaceholder => "Job name, description, script or config text", "任务名称、描述、脚本或配置中的文字";
    SearchHint => "Type at least two characters: job names, descriptions, scripts and configs are searched.", "至少输入两个字符：会搜索任务名称、描述、脚本和配置。";
    SearchNone => "No job matches “{q}”.", "没有任务匹配“{q}”。";
    SearchCountOne => "1 job found", "找到 1 个任务";
    SearchCountMany => "{n} jobs found", "找到 {n} 个任务";
    InName => "In the name", "名称中";
    InDescription => "In the description", "描述中";
    InScript => "In the script", "脚本中";
    InConfig => "In the configs", "配置中";
    // Development center
    IdeMyFiles => "My files", "我的文件";
    IdeShared => "Shared", "共享";
    IdeNewFile => "+ File", "+ 文件";
    IdeNewFileHere => "New file in this folder", "在此目录中新建文件";
    IdeNewFolderHere => "New folder in this folder", "在此目录中新建目录";
    IdeToggleFolder => "Open or close the folder", "展开或收起目录";
    IdeTreeEmpty => "No files yet.", "还没有文件。";
    IdeFolderEmpty => "Empty folder", "空目录";
    IdePublishedMark => "Published to this job", "已发布到此任务";
    Rename => "Rename", "重命名";
    IdeMove => "Move to…", "移动到…";
    IdeMoveButton => "Move", "移动";
    IdeDragCancelled => "The file list changed while you were dragging, so nothing was moved. Please try again.", "拖动期间文件列表已更新，未移动任何内容，请重试。";
    IdeNewFileTitle => "New file", "新建文件";
    IdeNewFolderTitle => "New folder", "新建目录";
    IdeFileName => "File name, e.g. load_orders.sh", "文件名，例如 load_orders.sh";
    IdeRenameTitle => "Rename {name}", "重命名 {name}";
    IdeMoveTitle => "Move {name} to", "将 {name} 移动到";
    IdeDeleteFileQuestion => "Delete the file {name}?", "删除文件 {name}？";
    IdeDeleteFolderQuestion => "Delete the folder {name} and everything in it ({n} files and folders)?", "删除目录 {name} 及其中的全部内容（{n} 个文件和目录）？";
    IdeEmptyTitle => "No file open", "没有打开的文件";
    IdeEmptyHint => "Open a file from “My files” or “Shared” on the left, or create one with “+ File”. Files save themselves as you type, run on a host group, and publish to jobs.", "从左侧“我的文件”或“共享”中打开一个文件，或用“+ 文件”新建。文件在输入时自动保存，可在机器组上运行，并可发布为任务。";
    IdeSaved => "Saved", "已保存";
    IdeUnsaved => "Unsaved", "未保存";
    IdeSaveFailed => "Not saved: {error}", "未保存：{error}";
    IdeRunOn => "Run on", "运行于";
    IdeRunHint => "Runs the editor's text, saved or not", "运行编辑器中的文本（无论是否已保存）";
    IdeRunSelection => "Run selection", "运行选中部分";
    IdeRunSelectionHint => "Select text in the editor to run only that part", "在编辑器中选中文字，只运行这一部分";
    IdePublish => "Publish…", "发布…";
    IdePreview => "Preview", "预览";
    IdePreviewHint => "Show the text as a run would see it now: configs, ${zdt…} and $[…] macros rendered", "显示现在运行时实际执行的内容：替换配置、${zdt…} 和 $[…] 宏";
    IdePreviewTitle => "Rendered for now, in your time zone", "按当前时间、你的时区渲染";
    IdePreviewAgain => "Render again", "重新渲染";
    IdePublishTitle => "Publish {name}", "发布 {name}";
    IdePublishNew => "As a new job", "作为新任务";
    IdePublishUpdate => "As a new version of a job", "作为已有任务的新版本";
    IdePublishNewHint => "The new job has no schedule yet and runs on host group default; set them on its page.", "新任务暂无调度，机器组为 default；可在任务页面上设置。";
    IdePublishUpdateHint => "The job gets the file's text and type as a new version; its schedule and other settings stay.", "任务以新版本获得文件的文本和类型；其调度和其他设置不变。";
    IdeJobSearch => "Job", "任务";
    IdeJobSearchHint => "Search jobs by name or id", "按名称或 ID 搜索任务";
    IdeChooseJob => "Choose the job to update.", "请选择要更新的任务。";
    IdePublishButton => "Publish", "发布";
    IdePublished => "Published: job {name} #{id}, version {v}.", "已发布：任务 {name} #{id}，版本 {v}。";
    IdeOpenJob => "Open the job", "打开任务";
    IdeRuns => "Runs", "运行历史";
    IdeNoRuns => "No runs yet.", "还没有运行。";
    IdeWaitingForWorker => "Waiting for a worker…", "等待执行机器…";
    IdeLogHint => "Run the file to see its log here.", "运行文件后，日志会显示在这里。";
    // Resource center
    NavResources => "Resources", "资源中心";
    ResTitle => "Resource center", "资源中心";
    ResSubtitle => "Files that jobs fetch into their work directory before they run. Uploading a name again makes a new version.",
        "任务运行前拉取到工作目录的文件。同名再次上传即生成新版本。";
    ResUpload => "Upload a file", "上传文件";
    ResDropHere => "Drop a file here, or click to choose one", "将文件拖放到此处，或点击选择";
    ResDropHint => "Sent as it is, up to the server's limit (100 MiB by default)",
        "原样上传，不超过服务器的限制（默认 100 MiB）";
    ResChooseOther => "Click or drop another file to replace it", "点击或拖放其他文件以更换";
    ResNameLabel => "Name", "名称";
    ResNameHint => "May contain /, e.g. lib/udf.jar", "可包含 /，例如 lib/udf.jar";
    ResUploadButton => "Upload", "上传";
    ResUploading => "Uploading…", "上传中…";
    UploadInterrupted => "The upload was interrupted before the server answered", "上传在服务器应答前中断";
    ResExists => "This name exists (latest v{latest}): the upload becomes version {next}. Jobs pinned to an older version keep it.",
        "该名称已存在（最新 v{latest}）：本次上传将成为第 {next} 版。固定了旧版本的任务不受影响。";
    ResNewName => "A new resource: the upload becomes version 1.", "新资源：本次上传为第 1 版。";
    ResUploaded => "Uploaded {name}, version {version}.", "已上传 {name}，第 {version} 版。";
    ResHelpTitle => "Using a resource in a job", "在任务中使用资源";
    ResHelpLatestCode => "hera:<name>", "hera:<名称>";
    ResHelpLatest => "is the latest version,", "表示最新版本，";
    ResHelpPinnedCode => "hera:<name>@<version>", "hera:<名称>@<版本>";
    ResHelpPinned => "a fixed one.", "表示固定版本。";
    ResHelpConfig => "In the hera.resources config of the job or of its folder, one per line: <uri> [local name]",
        "在任务或其目录的 hera.resources 配置项中，每行一个：<uri> [本地文件名]";
    ResHelpConfigCode => "hera:lib/udf.jar\nhera:dim/map.csv@2 data/map.csv",
        "hera:lib/udf.jar\nhera:dim/map.csv@2 data/map.csv";
    ResHelpScript => "Or as a line of the script:", "或在脚本中写一行：";
    ResHelpScriptCode => "download[hera:dim/map.csv map.csv]", "download[hera:dim/map.csv map.csv]";
    ResLatest => "Latest", "最新版本";
    ResSize => "Size", "大小";
    ResSha => "SHA-256", "SHA-256";
    ResUploadedBy => "Uploaded by", "上传人";
    ResUploadedAt => "Uploaded", "上传时间";
    ResUseAs => "Use as", "引用方式";
    ResNone => "No resources yet. Upload a file to start.", "还没有资源，先上传一个文件。";
    ResVersions => "Versions", "版本";
    ResVersionsOf => "Versions of {name}", "{name} 的版本";
    ResCopy => "Copy", "复制";
    ResCopied => "Copied", "已复制";
    ResCopyFailed => "Cannot copy", "无法复制";
    ResCopyTitle => "Copy {uri}", "复制 {uri}";
    ResDeleteQuestion => "Delete {name} with all its {count} version(s)? Jobs that still name it will fail before they start.",
        "删除 {name} 及其全部 {count} 个版本？仍引用它的任务将在启动前失败。";
    // Execution settings (job editor and summary)
    Execution => "Execution", "执行";
    RetryCountHint => "Attempts after a failed one", "失败后再尝试的次数";
    RetryDelayHint => "Wait before the first retry", "首次重试前的等待";
    RetryBackoffLabel => "Retry backoff", "重试退避";
    RetryBackoffHint => "Exponential doubles the delay each retry", "指数：每次重试间隔翻倍";
    BackoffFixed => "fixed", "固定";
    BackoffExponential => "exponential", "指数";
    RetryMaxDelay => "Max retry delay (s)", "最大重试间隔（秒）";
    RetryMaxDelayHint => "Cap of the exponential delay", "指数退避的间隔上限";
    Timeout => "Timeout (s)", "超时（秒）";
    TimeoutHint => "Longer attempts are killed; empty: none", "超时的执行被终止；留空不限";
    ExpectedDuration => "Expected duration (s)", "预计时长（秒）";
    ExpectedDurationHint => "Longer attempts raise an overdue notice", "超出则提示超时（继续运行）";
    SlotWeight => "Worker slots", "占用槽位";
    SlotWeightHint => "Worker slots one run takes (1–64)", "每次运行占用的执行机器槽位（1–64）";
    PriorityHint => "Dispatched first when slots are short", "槽位不足时优先派发";
    NoLimit => "none", "不限";
    TimeoutView => "timeout", "超时";
    ExpectedView => "expected", "预计";
    SlotsTaken => "{n} worker slot(s) per run", "每次运行占 {n} 个槽位";
    BackoffUpTo => "exponential, at most {max}s apart", "指数退避，间隔最长 {max} 秒";
    // Job secrets
    Secrets => "Secrets", "密钥";
    SecretsHint => "Attempts get them as environment variables. Values are stored encrypted and never shown again.",
        "执行时作为环境变量提供。值加密存储，设置后不再显示。";
    SecretWhere => "Set on", "设置位置";
    SecretsNone => "No secrets for this job.", "此任务没有密钥。";
    SecretName => "Name (an environment variable)", "名称（环境变量名）";
    SecretValueLabel => "Value", "值";
    SecretSet => "Set secret", "设置密钥";
    SecretFormHint => "Setting a name this job has replaces its value; a folder's secret of the same name is overridden for this job.",
        "设置本任务已有的名称会替换其值；目录中的同名密钥将在本任务中被覆盖。";
    SecretSaved => "{name} is set.", "已设置 {name}。";
    SecretOnJob => "this job", "本任务";
    SecretFromFolder => "inherited from folder {folder}", "继承自目录 {folder}";
    SecretOverridden => "overridden", "已被覆盖";
    SecretOverriddenHint => "The job or a nearer folder sets the same name: its value is used",
        "本任务或更近的目录设置了同名密钥，以其值为准";
    SecretRemoveQuestion => "Remove the secret {name} from this job? Its next attempts no longer get this value.",
        "从此任务移除密钥 {name}？之后的执行将不再获得这个值。";
    SecretsNoneFolder => "No secrets for this folder.", "此目录没有密钥。";
    SecretFormHintFolder => "The jobs in this folder and in its subfolders get these; a subfolder or a job with a secret of the same name overrides it.",
        "此目录及其子目录中的任务都会获得这些密钥；子目录或任务中的同名密钥会覆盖它。";
    SecretOnFolder => "this folder", "本目录";
    SecretOverriddenHintFolder => "This folder or a nearer one sets the same name: its value is used",
        "本目录或更近的目录设置了同名密钥，以其值为准";
    SecretRemoveQuestionFolder => "Remove the secret {name} from this folder? The next attempts of its jobs no longer get this value.",
        "从此目录移除密钥 {name}？其中任务之后的执行将不再获得这个值。";
    ScriptPreviewHint => "Render the script as an attempt at a business time would see it: configs, ${zdt…} and $[…] macros",
        "按某个业务时间渲染脚本，显示执行时实际看到的内容：替换配置、${zdt…} 和 $[…] 宏";
    ScriptPreviewTime => "Business time in {zone} (empty: now)", "业务时间，时区 {zone}（留空为当前时间）";
    // Folder page
    FolderSettings => "Folder settings", "目录设置";
    FolderConfigsHint => "The jobs in this folder and in its subfolders read them as ${key}; a subfolder or a job setting the same key overrides it.",
        "此目录及其子目录中的任务以 ${key} 引用；子目录或任务中的同名配置会覆盖它。";
    InheritedConfigs => "Inherited configs", "继承的配置";
    InheritedConfigsHint => "Set by the folders above, outermost first. Change them on their folder's page.",
        "由上级目录设置，最外层在前。请到其所在目录的页面修改。";
    InheritedNone => "No folder above sets a config.", "上级目录没有设置配置项。";
    ConfigFrom => "From folder", "来自目录";
    ConfigKeyHeader => "Key", "键";
    ConfigValueHeader => "Value", "值";
    ConfigOverriddenHint => "This folder or a nearer one sets the same key: its value is used",
        "本目录或更近的目录设置了同名配置，以其值为准";
    FolderSaved => "Saved.", "已保存。";
    FolderJobs => "Jobs in this folder", "此目录中的任务";
    FolderJobsNone => "No jobs in this folder.", "此目录中没有任务。";
    Subfolders => "Subfolders", "子目录";
    AuSecretSet => "set secret", "设置密钥";
    AuSecretDelete => "remove secret", "移除密钥";
    AuResourceUpload => "upload resource", "上传资源";
    AuResourceDelete => "delete resource", "删除资源";
    AuUserRegister => "register account", "注册账号";
    AuUserCreate => "add account", "添加账号";
    AuUserApprove => "approve account", "批准账号";
    AuUserDisable => "disable account", "停用账号";
    AuUserEnable => "enable account", "启用账号";
    AuUserGrantAdmin => "make administrator", "设为管理员";
    AuUserRevokeAdmin => "remove administrator", "取消管理员";
    AuUserPassword => "change password", "修改密码";
    // States (badges)
    StWaiting => "waiting", "等待依赖";
    StQueued => "queued", "排队中";
    StRunning => "running", "运行中";
    StRetryWait => "retry wait", "等待重试";
    StSuccess => "success", "成功";
    StFailed => "failed", "失败";
    StCancelled => "cancelled", "已取消";
    StSkipped => "skipped", "已跳过";
    StDispatched => "dispatched", "已派发";
    StLost => "lost", "失联";
    StTimedOut => "timed out", "已超时";
    StNone => "not run", "未运行";
    StPaused => "paused", "已暂停";
    StFinished => "finished", "已结束";
    StConnected => "connected", "在线";
    StDisconnected => "disconnected", "离线";
    // Trigger kinds
    TrScheduled => "scheduled", "调度";
    TrManual => "manual", "手动";
    TrRecover => "recover", "恢复";
    TrCascade => "cascade", "级联恢复";
    TrRetry => "retry", "重试";
    TrApi => "API", "API";
    TrBackfill => "backfill", "补数据";
}

/// `key` in the current language; reactive.
pub fn t(key: K) -> &'static str {
    key.text(AppState::get().lang.get())
}

/// `key` in the current language, without subscribing (for non-reactive contexts).
pub fn t_untracked(key: K) -> &'static str {
    key.text(AppState::get().lang.get_untracked())
}

/// `template` with each `{name}` replaced by its value.
pub fn fill(template: &str, values: &[(&str, &str)]) -> String {
    values
        .iter()
        .fold(template.to_owned(), |text, (name, value)| {
            text.replace(&format!("{{{name}}}"), value)
        })
}

/// The key for a count: `one` when `n` is 1, else `many` (which says `{n}`).
pub fn plural(n: u32, one: K, many: K) -> K {
    if n == 1 { one } else { many }
}

/// `key` in the current language with `{n}` replaced by `n`, for counts; reactive.
pub fn count(n: u32, one: K, many: K) -> String {
    fill(t(plural(n, one, many)), &[("n", &n.to_string())])
}

/// The label of a state by its snake_case name; reactive.
pub fn state_label(state: &str) -> &'static str {
    let key = match state {
        "waiting" => K::StWaiting,
        "queued" => K::StQueued,
        "running" => K::StRunning,
        "retry_wait" => K::StRetryWait,
        "success" => K::StSuccess,
        "failed" => K::StFailed,
        "cancelled" => K::StCancelled,
        "skipped" => K::StSkipped,
        "dispatched" => K::StDispatched,
        "lost" => K::StLost,
        "timed_out" => K::StTimedOut,
        "connected" => K::StConnected,
        "disconnected" => K::StDisconnected,
        "paused" => K::StPaused,
        "finished" => K::StFinished,
        "active" => K::StActive,
        "pending" => K::StPending,
        "disabled" => K::StDisabled,
        _ => K::StNone,
    };
    t(key)
}

/// The label of a trigger kind, as a reactive text.
pub fn trigger_label(kind: TriggerKind) -> impl Fn() -> &'static str + Copy + Send + Sync {
    let key = match kind {
        TriggerKind::Scheduled => K::TrScheduled,
        TriggerKind::Manual => K::TrManual,
        TriggerKind::Recover => K::TrRecover,
        TriggerKind::Cascade => K::TrCascade,
        TriggerKind::Retry => K::TrRetry,
        TriggerKind::Api => K::TrApi,
        TriggerKind::Backfill => K::TrBackfill,
    };
    move || t(key)
}

/// The label of an overlap policy.
pub fn overlap_label(policy: OverlapPolicy) -> K {
    match policy {
        OverlapPolicy::Allow => K::OverlapAllow,
        OverlapPolicy::Skip => K::OverlapSkip,
        OverlapPolicy::Queue => K::OverlapQueue,
    }
}

/// The label of a misfire policy.
pub fn misfire_label(policy: MisfirePolicy) -> K {
    match policy {
        MisfirePolicy::FireOnceNow => K::MisfireOnce,
        MisfirePolicy::Skip => K::MisfireSkip,
        MisfirePolicy::CatchUp => K::MisfireCatchUp,
    }
}

/// The label of a dependency window, as the editor's select offers it.
pub fn window_label(window: DependencyWindow) -> K {
    match window {
        DependencyWindow::SameDay => K::WinSameDay,
        DependencyWindow::LastOfDay => K::WinLastOfDay,
        DependencyWindow::PreviousDay => K::WinPreviousDay,
        DependencyWindow::SameHour => K::WinSameHour,
    }
}

/// The short label a dependency chip adds after the job; none for the default, the same day.
pub fn window_short_label(window: DependencyWindow) -> Option<K> {
    match window {
        DependencyWindow::SameDay => None,
        DependencyWindow::LastOfDay => Some(K::WinShortLastOfDay),
        DependencyWindow::PreviousDay => Some(K::WinShortPreviousDay),
        DependencyWindow::SameHour => Some(K::WinShortSameHour),
    }
}

/// The label of what a skipped upstream instance means, as the editor's select offers it.
pub fn on_skip_label(on_skip: OnSkip) -> K {
    match on_skip {
        OnSkip::Done => K::OnSkipDone,
        OnSkip::Propagate => K::OnSkipPropagate,
    }
}

/// The label of a retry backoff.
pub fn backoff_label(backoff: RetryBackoff) -> K {
    match backoff {
        RetryBackoff::Fixed => K::BackoffFixed,
        RetryBackoff::Exponential => K::BackoffExponential,
    }
}

/// The label of a calendar mode.
pub fn calendar_mode_label(mode: CalendarMode) -> K {
    match mode {
        CalendarMode::Ignore => K::CalModeIgnore,
        CalendarMode::WorkingDays => K::CalModeWorking,
        CalendarMode::NonWorkingDays => K::CalModeNonWorking,
    }
}

/// The label of a calendar exception's kind.
pub fn day_kind_label(kind: DayKind) -> K {
    match kind {
        DayKind::Holiday => K::DayHoliday,
        DayKind::Workday => K::DayWorkday,
    }
}

/// The label of a backfill order.
pub fn backfill_order_label(order: BackfillOrder) -> K {
    match order {
        BackfillOrder::OldestFirst => K::OrderOldest,
        BackfillOrder::NewestFirst => K::OrderNewest,
    }
}

/// The label of a backfill version choice.
pub fn backfill_version_label(version: BackfillVersion) -> K {
    match version {
        BackfillVersion::Latest => K::VersionLatest,
        BackfillVersion::Pinned => K::VersionPinned,
    }
}

/// The label of a backfill plan item's action (`create`, `rerun`, `leave`).
pub fn plan_action_label(action: &str) -> Option<K> {
    match action {
        "create" => Some(K::ActCreate),
        "rerun" => Some(K::ActRerun),
        "leave" => Some(K::ActLeave),
        _ => None,
    }
}

/// The label of an audit trail action such as `job.pause`; `None` for one this UI does not know.
pub fn audit_action_label(action: &str) -> Option<K> {
    Some(match action {
        "job.create" => K::AuJobCreate,
        "job.update" => K::AuJobUpdate,
        "job.delete" => K::AuJobDelete,
        "job.pause" => K::AuJobPause,
        "job.resume" => K::AuJobResume,
        "job.run" => K::AuJobRun,
        "instance.rerun" => K::AuInstanceRerun,
        "instance.force" => K::AuInstanceForce,
        "instance.cancel" => K::AuInstanceCancel,
        "backfill.start" => K::AuBackfillStart,
        "backfill.pause" => K::AuBackfillPause,
        "backfill.resume" => K::AuBackfillResume,
        "backfill.cancel" => K::AuBackfillCancel,
        "backfill.rerun_failed" => K::AuBackfillRerunFailed,
        "calendar.create" => K::AuCalendarCreate,
        "calendar.update" => K::AuCalendarUpdate,
        "calendar.import" => K::AuCalendarImport,
        "calendar.delete" => K::AuCalendarDelete,
        "secret.set" => K::AuSecretSet,
        "secret.delete" => K::AuSecretDelete,
        "resource.upload" => K::AuResourceUpload,
        "resource.delete" => K::AuResourceDelete,
        "user.register" => K::AuUserRegister,
        "user.create" => K::AuUserCreate,
        "user.approve" => K::AuUserApprove,
        "user.disable" => K::AuUserDisable,
        "user.enable" => K::AuUserEnable,
        "user.grant_admin" => K::AuUserGrantAdmin,
        "user.revoke_admin" => K::AuUserRevokeAdmin,
        "user.password" => K::AuUserPassword,
        _ => return None,
    })
}

/// The name of month `month` (1–12).
pub fn month_name(month: u32) -> K {
    const MONTHS: [K; 12] = [
        K::M1,
        K::M2,
        K::M3,
        K::M4,
        K::M5,
        K::M6,
        K::M7,
        K::M8,
        K::M9,
        K::M10,
        K::M11,
        K::M12,
    ];
    MONTHS[(month.clamp(1, 12) - 1) as usize]
}

/// The short name of ISO weekday `day` (1 = Monday … 7 = Sunday).
pub fn weekday_name(day: u8) -> K {
    const DAYS: [K; 7] = [K::Wd1, K::Wd2, K::Wd3, K::Wd4, K::Wd5, K::Wd6, K::Wd7];
    DAYS[(day.clamp(1, 7) - 1) as usize]
}

/// "November 2026" / "2026年11月"; reactive.
pub fn month_title(year: i32, month: u32) -> String {
    fill(
        t(K::MonthTitle),
        &[("month", t(month_name(month))), ("year", &year.to_string())],
    )
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    /// The `{name}` placeholders of a text.
    fn placeholders(text: &str) -> BTreeSet<&str> {
        text.split('{')
            .skip(1)
            .filter_map(|rest| rest.split_once('}').map(|(name, _)| name))
            .collect()
    }

    #[test]
    fn both_languages_have_the_same_placeholders() {
        for key in K::ALL {
            assert_eq!(
                placeholders(key.text(Lang::En)),
                placeholders(key.text(Lang::Zh)),
                "{key:?}"
            );
        }
    }

    #[test]
    fn every_window_has_a_label_and_only_same_day_goes_without_a_short_one() {
        for window in DependencyWindow::ALL {
            assert!(!window_label(*window).text(Lang::En).is_empty());
            assert_eq!(
                window_short_label(*window).is_none(),
                *window == DependencyWindow::SameDay,
                "{window}"
            );
        }
        assert_eq!(
            window_label(DependencyWindow::PreviousDay).text(Lang::Zh),
            "前一天（T−1）"
        );
    }

    #[test]
    fn every_audit_action_the_server_names_has_a_label() {
        for action in [
            "job.create",
            "job.update",
            "job.delete",
            "job.pause",
            "job.resume",
            "job.run",
            "instance.rerun",
            "instance.force",
            "instance.cancel",
            "backfill.start",
            "backfill.pause",
            "backfill.resume",
            "backfill.cancel",
            "backfill.rerun_failed",
            "calendar.create",
            "calendar.update",
            "calendar.import",
            "calendar.delete",
            "secret.set",
            "secret.delete",
            "resource.upload",
            "resource.delete",
            "user.register",
            "user.create",
            "user.approve",
            "user.disable",
            "user.enable",
            "user.grant_admin",
            "user.revoke_admin",
            "user.password",
        ] {
            assert!(audit_action_label(action).is_some(), "{action}");
        }
        assert_eq!(audit_action_label("job.teleport"), None);
        for action in ["create", "rerun", "leave"] {
            assert!(plan_action_label(action).is_some(), "{action}");
        }
    }

    #[test]
    fn month_and_weekday_names_cover_their_ranges() {
        assert_eq!(month_name(1).text(Lang::En), "January");
        assert_eq!(month_name(12).text(Lang::Zh), "12月");
        assert_eq!(weekday_name(1).text(Lang::En), "Mon");
        assert_eq!(weekday_name(7).text(Lang::Zh), "周日");
    }

    #[test]
    fn every_key_is_translated() {
        for key in K::ALL.iter().filter(|k| **k != K::Empty) {
            assert!(!key.text(Lang::En).is_empty(), "{key:?}");
            assert!(!key.text(Lang::Zh).is_empty(), "{key:?}");
        }
    }

    #[test]
    fn fills_placeholders_and_picks_the_count_form() {
        assert_eq!(
            fill(
                K::HostGroupCapacity.text(Lang::En),
                &[
                    ("group", "etl"),
                    ("workers", "2 workers connected"),
                    ("slots", "1 free slot")
                ]
            ),
            "Host group etl: 2 workers connected, 1 free slot"
        );
        assert_eq!(fill("{n} of {n}", &[("n", "3")]), "3 of 3");
        assert_eq!(
            plural(1, K::FreeSlotsOne, K::FreeSlotsMany),
            K::FreeSlotsOne
        );
        assert_eq!(
            plural(0, K::FreeSlotsOne, K::FreeSlotsMany),
            K::FreeSlotsMany
        );
        assert_eq!(
            plural(2, K::FreeSlotsOne, K::FreeSlotsMany),
            K::FreeSlotsMany
        );
    }
}
