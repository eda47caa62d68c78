"""The one place the bot is assembled: every part built once, in dependency order, and closed
in reverse. `python -m bot`, the eval, the bench and the tests all build it here."""

from __future__ import annotations

import functools
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path

from slack_bolt import App

from approvals import MIGRATIONS, ActionStore, Executor, PendingAction, TokenSigner
from approvals.authority import Authority, SharedToken
from approvals.deciders import Deciders
from approvals.leases import Leases
from approvals.slack import home as app_home
from approvals.slack import listeners as approval_buttons
from approvals.slack.announce import Announcer
from approvals.slack.card_copies import CardCopies
from approvals.slack.clicks import Click, ClickHandler
from approvals.slack.details import Details
from approvals.slack.home import Home
from approvals.slack.revisions import Revisions
from approvals.subjects import Subjects
from approvals.sweeper import Escalation, Sweeper
from approvals.upkeep import Upkeep
from bot import edits
from bot.agent.history import ConversationStore
from bot.agent.loop import SHIPPED, Agent, Design, make_client
from bot.config import Config
from bot.conversation.callback import CallbackPage
from bot.conversation.gate import Gate
from bot.conversation.inbox import Inbox, Intake
from bot.conversation.replies import Replies, note_outcome
from bot.conversation.turns import Turns
from bot.housekeeping import Housekeeper
from bot.hr import linking as link_buttons
from bot.hr.accounts import Accounts, TokenCipher
from bot.hr.authority import REFRESH_LEASE_SECONDS, PersonalAuthority, PerUser
from bot.hr.client import HRClient
from bot.hr.link_states import LinkStates
from bot.hr.linking import CALLBACK_PATH, Linking
from bot.hr.oauth import HRIdentityProvider, find_endpoints
from bot.parts import BOT_MIGRATIONS, Core, HRBot, Storage
from bot.readiness import Readiness
from bot.slack import events
from bot.slack.client import make_web_client
from bot.slack.events import Incoming
from bot.slack.server import WSGIApp, page_application
from bot.tools.catalogue import Catalogue, NestedBodies, catalogue_file
from bot.tools.toolbox import Toolbox
from infra import metrics
from infra.db import open_database
from infra.dispatch import FairPool
from infra.limits import RateWindow, SharedRateWindow
from infra.named_leases import NamedLeases
from infra.people import People, active_members, member_problem
from infra.roster import Roster

Clock = Callable[[], float]
INTAKE_WORKERS = 4
CLICK_WORKERS = 8
BOLT_WORKERS = 16
QUEUED_PER_PERSON = 50  # messages one person may have waiting; past it they are dropped
CLICKS_PER_PERSON = 20  # clicks one person may have waiting
STORED_PER_MINUTE_FACTOR = 3  # a person's messages stored per minute, times the answer limit
REFUSAL_NOTICE_SECONDS = 300  # one refusal notice per person, reason and channel in this time
LINK_SECONDS = 600  # a Connect button works once, for this long
LINK_STATES_KEPT = 6 * LINK_SECONDS  # after which a late click reads "unknown", not "expired"


def open_storage(config: Config, closing: ExitStack, *, now: Clock = time.time) -> Storage:
    database = open_database(config.database, [*MIGRATIONS, *BOT_MIGRATIONS])
    closing.callback(database.close)
    return Storage(
        database,
        ActionStore(database, now=now),
        ConversationStore(database, token_budget=config.history_token_budget, now=now),
    )


def open_per_user(
    config: Config, storage: Storage, *, owner: str, now: Clock = time.time
) -> PerUser:
    """Per-user HR authority (HR_AUTH=oauth): linked accounts, sealed; the identity provider
    found by discovery (explicit endpoint URLs win). Raises ProviderError when it cannot be.
    `owner` names this process among replicas: one refresh of a person's token at a time."""
    cipher = TokenCipher.from_setting(config.token_encryption_keys or "")
    provider = HRIdentityProvider(
        find_endpoints(config.hr_oauth_issuer, **config.hr_oauth_endpoints),
        client_id=config.hr_oauth_client_id or "",
        client_secret=config.hr_oauth_client_secret or "",
        scopes=config.hr_oauth_scopes,
        redirect_uri=config.oauth_callback_url,
    )
    accounts = Accounts(storage.database, cipher, now=now)
    states = LinkStates(storage.database, cipher, now=now, ttl_seconds=LINK_SECONDS)
    # Token refreshes are timed by the real clock, as the tokens' expiry is.
    refreshes = NamedLeases(storage.database, owner=owner, seconds=REFRESH_LEASE_SECONDS)
    authority = PersonalAuthority(accounts, provider, leases=refreshes)
    return PerUser(accounts, states, provider, authority)


def build_core(
    config: Config,
    storage: Storage,
    closing: ExitStack,
    *,
    catalogue_path: str | Path | None = None,
    on_pending: Callable[[PendingAction], None] | None = None,
    design: Design = SHIPPED,
    requester_problem: Callable[[str], str | None] | None = None,
    owner: str | None = None,
    per_user: PerUser | None = None,
) -> Core:
    """The Slack-free part. `on_pending` hears every newly held write (the Slack app posts its
    card); what this opens, `closing` closes. `design` replaces the agent's own (the eval
    compares designs with it). `owner` names this process among the replicas sharing the
    database; `per_user`, opened already (HR_AUTH=oauth), is opened here when not given."""
    actions = storage.actions
    owner = owner or uuid.uuid4().hex
    if per_user is None and config.per_user_hr:
        per_user = open_per_user(config, storage, owner=owner, now=actions.now)
    authority: Authority = per_user.authority if per_user else SharedToken()
    # With per-user authority no shared credential exists: each request carries a person's.
    hr = HRClient(config.hr_api_url, token=None if per_user else config.hr_api_token)
    closing.callback(hr.close)

    # HR_CATALOGUE's (a preset or a file; checked when the configuration was read) by default.
    catalogue = Catalogue.load(catalogue_path or catalogue_file(config.hr_catalogue) or "")
    executor = Executor(
        actions,
        NestedBodies(hr, catalogue),
        snapshot=hr.snapshot,
        authority=authority,
        requester_problem=requester_problem,
        leases=Leases(storage.database, owner=owner, seconds=config.lease_seconds, now=actions.now),
    )
    toolbox = Toolbox(
        catalogue,
        hr,
        actions,
        approval_ttl_seconds=config.approval_ttl_seconds,
        on_pending=on_pending,
        max_pending_per_requester=config.max_pending_per_requester,
        max_pending_total=config.max_pending_total,
        authority=authority,
        family=config.tools,
    )
    model = make_client(
        api_key=config.openai_api_key,
        base_url=config.openai_base_url,
        timeout=config.openai_timeout_seconds,
        max_retries=config.openai_max_retries,
    )
    closing.callback(model.close)
    agent = Agent(
        model,
        config.openai_model,
        toolbox,
        storage.conversations,
        max_rounds=config.max_tool_rounds,
        deadline_seconds=config.model_deadline_seconds,
        max_tool_calls_per_round=config.max_tool_calls_per_round,
        max_hr_requests=config.max_hr_requests_per_message,
        temperature=config.openai_temperature,
        configured=config.model_configured,
        design=design,
    )
    return Core(config, storage, hr, executor, toolbox, agent, per_user)


def build(
    config: Config, *, now: Clock = time.time, catalogue_path: str | Path | None = None
) -> HRBot:
    """The Slack app, ready to serve. Raises SlackApiError or OSError when Slack refuses the
    token or cannot be reached; nothing is left open then."""
    config.require_slack()
    closing = ExitStack()
    try:
        return _build(config, now, catalogue_path, closing)
    except BaseException:
        closing.close()
        raise


def _build(
    config: Config, now: Clock, catalogue_path: str | Path | None, closing: ExitStack
) -> HRBot:
    client = make_web_client(config.slack_bot_token, config.slack_api_url)
    identity = client.auth_test()
    storage = open_storage(config, closing, now=now)

    # The approvals side: it reports outcomes to the bot through `on_outcome` alone, never by
    # importing it.
    cards = CardCopies(storage.database)
    signer = TokenSigner(config.approval_secrets, config.approval_ttl_seconds)
    approvers = Roster(config.approvers, group=config.approver_group, client=client)
    people = People(client)
    team, org = identity["team_id"], identity.get("enterprise_id")  # ours, who may take part
    # With per-user authority, a write goes out only while its requester is still a member.
    requester_problem = functools.partial(member_problem, people, team, org)
    escalation, escalated_to = None, None  # ESCALATION_GROUP: who else, after how long
    if config.escalation_group:
        escalated_to = Roster((), group=config.escalation_group, client=client)
        escalation = Escalation(
            config.escalate_after_seconds,
            config.escalation_group,
            lambda: active_members(escalated_to.members(), people, team, org),
        )
    owner = uuid.uuid4().hex  # this process, among the replicas sharing the database
    per_user, linking = None, None
    if config.per_user_hr:  # people's own HR accounts: how they connect and disconnect
        per_user = open_per_user(config, storage, owner=owner, now=storage.actions.now)
        linking = Linking(per_user, people, client, identity, record=storage.actions.record)
    # The person a change is about takes no part in it: told by their Slack (or linked HR)
    # email, failing closed when it cannot be checked.
    subjects = Subjects(people, per_user.authority if per_user else SharedToken())
    deciders = Deciders(people)  # the manager of the person a change is about, where they decide
    # App Home: published on opening, and again when the announcer changes an action's cards.
    home = Home(
        client,
        storage.actions,
        signer,
        people,
        approvers=approvers,
        escalation=escalated_to,
        problem=requester_problem,
        account_section=linking.home_section if linking else None,
        now=now,
        subjects=subjects,
    )
    closing.callback(home.stop)
    announcer = Announcer(
        client,
        cards,
        signer,
        # Cards carry personal data: only to approvers who are active, full members.
        approvers=lambda: active_members(approvers.members(), people, team, org),
        approval_channel=config.approval_channel,
        on_outcome=functools.partial(note_outcome, storage.conversations),
        on_change=home.changed,
        excluded=subjects.excluded,
        contributors_decide=config.allow_self_approval,
        deciders=deciders,
    )
    core = build_core(
        config,
        storage,
        closing,
        catalogue_path=catalogue_path,
        on_pending=announcer.post,
        requester_problem=requester_problem,
        owner=owner,
        per_user=per_user,
    )
    click_refusals = RateWindow(1, REFUSAL_NOTICE_SECONDS)
    clicks = ClickHandler(
        core.actions,
        signer,
        core.executor,
        announcer,
        approvers=approvers,
        people=people,
        team_id=identity["team_id"],
        enterprise_id=identity.get("enterprise_id"),
        allow_self_approval=config.allow_self_approval,
        refusals=click_refusals,
        authority=core.executor.authority,
        offer_link=linking.offer if linking else None,
        escalation=escalated_to,
        home=home,
        subjects=subjects,
        deciders=deciders,
        manager_now=core.toolbox.manager_now,
    )
    upkeep = Upkeep(core.actions)
    sweeper = Sweeper(core.actions, upkeep, announcer, core.executor, escalation)

    # The conversation side: who may ask is decided here, before any model call; its own
    # pools keep model work from delaying an acknowledgement.
    gate = Gate(
        team_id=identity["team_id"],
        enterprise_id=identity.get("enterprise_id"),
        people=people,
        requesters=Roster(config.requesters, group=config.requester_group, client=client),
        email_domains=config.requester_email_domains,
        allowed_channels=config.allowed_channels,
        allow_shared_channels=config.allow_shared_channels,
        direct_message_link=f"{identity['url']}app_redirect?channel={identity['user_id']}",
    )
    # What replicas share: claims on stored messages, leases on names (a conversation's turn,
    # the housekeeping round) and each person's limits, all in the database.
    database = storage.database
    inbox_ = Inbox(database, now=now, owner=owner, claim_seconds=config.lease_seconds)
    leases = NamedLeases(database, owner=owner, seconds=config.lease_seconds, now=now)
    rate = SharedRateWindow(database, "messages", config.user_messages_per_minute, now=now)
    replies = Replies(
        client,
        core.agent,
        inbox_,
        gate,
        rate=rate,
        refusals=SharedRateWindow(database, "refusal-notices", 1, REFUSAL_NOTICE_SECONDS, now=now),
        slow_downs=SharedRateWindow(database, "slow-down-notices", 1, 60, now=now),
        record=core.actions.record,
        authority=core.executor.authority,
        linking=linking,
        posted_about=cards.remember,
    )
    # People take turns; each person's messages are answered one at a time, in order, and one
    # conversation's in the order they were sent across replicas.
    turns = Turns(inbox_, leases, replies.answer)
    answers: FairPool[Incoming] = FairPool(
        turns.take,
        owner=_person,
        workers=config.model_concurrency,
        per_owner=QUEUED_PER_PERSON,
        name="answers",
    )
    closing.callback(answers.shutdown)
    click_pool: FairPool[Click] = FairPool(
        clicks.handle,
        owner=lambda click: click.user,
        workers=CLICK_WORKERS,
        per_owner=CLICKS_PER_PERSON,
        name="clicks",
    )
    closing.callback(click_pool.shutdown)
    intake = Intake(inbox_, RateWindow(STORED_PER_MINUTE_FACTOR * rate.limit), answers.submit)
    intake_pool: FairPool[Incoming] = FairPool(
        intake.take,
        owner=_person,
        workers=INTAKE_WORKERS,
        per_owner=QUEUED_PER_PERSON,
        name="intake",
    )
    closing.callback(intake_pool.shutdown)

    # Bolt runs listeners (and so each acknowledgement) on this pool; ours only hand work over.
    bolt_pool = ThreadPoolExecutor(BOLT_WORKERS, thread_name_prefix="bolt")
    closing.callback(bolt_pool.shutdown)
    bolt = App(
        client=client,
        signing_secret=config.slack_signing_secret,
        request_verification_enabled=not config.socket_mode,
        listener_executor=bolt_pool,
    )
    events.register(bolt, intake_pool.submit, bot_user_id=identity["user_id"])
    if linking is not None:
        link_buttons.register(bolt, linking, on_change=home.refresh)
    revisions = Revisions(clicks, edits.EditRules(core.toolbox.catalogue, storage.conversations))
    approval_buttons.register(
        bolt, click_pool.submit, clicks.handle, revisions=revisions, details=Details(clicks)
    )
    app_home.register(bolt, home, click_pool.submit)

    housekeeper = Housekeeper(
        sweeper,
        upkeep,
        storage.conversations,
        inbox_,
        [rate, replies.refusals, replies.slow_downs, intake.storable, click_refusals],
        queue_answer=answers.submit,
        retention_days=config.conversation_retention_days,
        interval_seconds=config.sweep_interval_seconds,
        # Once retention purged an action's personal data, its Slack messages lose it too.
        chores=[
            lambda: announcer.redact_purged(core.actions.get),
            *([lambda: core.per_user.states.purge(LINK_STATES_KEPT)] if core.per_user else []),
        ],
        leases=leases,
        turns=turns,
    )
    closing.callback(housekeeper.stop)
    # Served over HTTP besides Slack's requests (in Socket Mode too): readiness, the metrics
    # when asked for, and with per-user authority the browser's return from the HR sign-in.
    readiness = Readiness(lambda: database.query("SELECT 1 AS ok"), client.auth_test, core.hr)
    routes: dict[str, WSGIApp] = {"/readyz": readiness.application}
    metrics.watch_pending(core.actions.pending_count)
    if config.metrics and config.metrics_port is None:
        routes["/metrics"] = metrics.application
    if linking is not None:
        page = CallbackPage(
            linking, inbox_, answers.submit, within_seconds=LINK_SECONDS, on_linked=home.refresh
        )
        routes[CALLBACK_PATH] = page_application(page)
    return HRBot(
        core,
        identity["team_id"],
        identity["user_id"],
        inbox_,
        housekeeper,
        bolt,
        closing,
        routes,
        readiness,
    )


def _person(message: Incoming) -> str:
    return message.user
