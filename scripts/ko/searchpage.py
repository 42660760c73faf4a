"""Korean translations of the search page's bounded counts (issue 22; see scripts/ko_messages.py for how the files merge)."""

KO = {
    "More than {count} clips match; the counts below are of the newest {count}.":
        "{count}개가 넘는 클립이 일치합니다. 아래 집계는 최근 {count}개 기준입니다.",
    "Count the matches by camera, zone and event type":
        "카메라·구역·이벤트 유형별 일치 건수 보기",
}
