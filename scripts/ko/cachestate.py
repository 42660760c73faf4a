"""Korean for the watch state kept in the catalog (one process per watch): N018, N019."""

KO = {
    "the watch {watch} is already run by {owner}; two watchers of one watch would take the same clips, so "
    "this one waits (or, with --once, stops): stop the other one, or give this one another name":
        "감시 {watch}은(는) 이미 {owner}에서 실행 중입니다. 한 감시를 두 감시자가 실행하면 같은 영상을 두 번 가져가게 "
        "되므로 이 감시자는 기다립니다(--once이면 멈춥니다). 다른 감시자를 멈추거나 이 감시자에 다른 이름을 주십시오",
    "the state of the watch {watch} was changed by {owner} while this watcher ran; it stopped before "
    "taking another clip: run one watcher per watch":
        "이 감시자가 실행되는 동안 {owner}이(가) 감시 {watch}의 상태를 바꾸었습니다. 다음 영상을 가져가기 전에 "
        "멈추었습니다: 감시 하나에 감시자 하나만 실행하십시오",
}
