"""Word lists for the built-in intent parser (English and Chinese).

Kept apart from :mod:`recsys.intent` so the rules there read as logic, and so the lists can
be reviewed and extended in one place. Every pattern is a regular expression fragment;
English fragments are wrapped in word boundaries by the parser, Chinese ones are not.
"""

from __future__ import annotations

#: (pattern, genres it signals when liked, genres it signals when disliked).
#: The third item exists for compounds: disliking "romantic comedies" is a dislike of
#: the romance, not of comedy.
GENRE_TERMS_EN: list[tuple[str, tuple[str, ...], tuple[str, ...]]] = [
    (r"rom[\s-]?coms?|romantic[\s-]comed(?:y|ies)", ("Comedy", "Romance"), ("Romance",)),
    (r"sci[\s-]?fi|science[\s-]fiction|scifi|space[\s-]operas?|cyberpunk|futuristic|dystopian|dystopias?"
     r"|outer[\s-]space|aliens?|robots?", ("Sci-Fi",), ("Sci-Fi",)),
    (r"horrors?|scary|scare[sd]?|gory|gore|slashers?|creepy|spooky|frightening|terrifying|zombies?"
     r"|haunted|ghost[\s-]stor(?:y|ies)", ("Horror",), ("Horror",)),
    (r"comed(?:y|ies)|comedic|funny|funnier|hilarious|humou?r(?:ous)?|laughs?|laughing|sitcoms?",
     ("Comedy",), ("Comedy",)),
    (r"romance|romances|romantic|love[\s-]stor(?:y|ies)|chick[\s-]flicks?", ("Romance",), ("Romance",)),
    (r"action|action[\s-]packed|actions", ("Action",), ("Action",)),
    (r"adventures?|adventurous", ("Adventure",), ("Adventure",)),
    (r"animation|animated|cartoons?|anime", ("Animation",), ("Animation",)),
    (r"kids?|children|children's|kid[\s-]friendly|family[\s-]friendly|family", ("Children",),
     ("Children",)),
    (r"crime|crimes|heists?|gangsters?|mafia|mobsters?|criminals?", ("Crime",), ("Crime",)),
    (r"documentar(?:y|ies)|docu[\s-]?series", ("Documentary",), ("Documentary",)),
    (r"dramas?|dramatic|tear[\s-]?jerkers?", ("Drama",), ("Drama",)),
    (r"fantasy|fantasies|magical|wizards?|dragons?|fairy[\s-]tales?", ("Fantasy",), ("Fantasy",)),
    (r"film[\s-]noirs?|noir", ("Film-Noir",), ("Film-Noir",)),
    (r"musicals?|sing[\s-]alongs?", ("Musical",), ("Musical",)),
    (r"myster(?:y|ies)|whodunn?its?|detectives?", ("Mystery",), ("Mystery",)),
    (r"thrillers?|suspense|suspenseful", ("Thriller",), ("Thriller",)),
    (r"war|wars|wwii|ww2|world[\s-]war|military", ("War",), ("War",)),
    (r"westerns?|cowboys?|wild[\s-]west", ("Western",), ("Western",)),
    (r"imax", ("IMAX",), ("IMAX",)),
]

GENRE_TERMS_ZH: list[tuple[str, tuple[str, ...], tuple[str, ...]]] = [
    (r"科幻", ("Sci-Fi",), ("Sci-Fi",)),
    (r"恐怖|鬼片|血腥|僵尸|丧尸", ("Horror",), ("Horror",)),
    (r"喜剧|搞笑|幽默", ("Comedy",), ("Comedy",)),
    (r"爱情|浪漫", ("Romance",), ("Romance",)),
    (r"动作", ("Action",), ("Action",)),
    (r"冒险", ("Adventure",), ("Adventure",)),
    (r"动画|卡通|动漫", ("Animation",), ("Animation",)),
    (r"儿童|家庭|亲子", ("Children",), ("Children",)),
    (r"犯罪|黑帮", ("Crime",), ("Crime",)),
    (r"纪录", ("Documentary",), ("Documentary",)),
    (r"剧情|文艺", ("Drama",), ("Drama",)),
    (r"奇幻|魔幻", ("Fantasy",), ("Fantasy",)),
    (r"黑色电影", ("Film-Noir",), ("Film-Noir",)),
    (r"歌舞|音乐剧", ("Musical",), ("Musical",)),
    (r"悬疑|推理|侦探", ("Mystery",), ("Mystery",)),
    (r"惊悚", ("Thriller",), ("Thriller",)),
    (r"战争", ("War",), ("War",)),
    (r"西部", ("Western",), ("Western",)),
]

#: Phrases that look negative but are not a dislike of what follows.
NOT_NEGATION_EN = [
    r"(?:do|would|does|did)(?:n'?t| not) mind", r"not opposed to", r"no matter", r"not only",
    r"not just", r"can'?t wait", r"(?:do|does)(?:n'?t| not) (?:care|know|matter)",
    r"not (?:sure|picky|fussy|particular|bothered)", r"no (?:idea|preference|problem|worries)",
    r"nothing (?:specific|in particular|better than|beats)", r"never (?:get|gets) (?:tired|sick|bored)",
    r"(?:have|has|had)(?:n'?t| not| never) (?:seen|watched)", r"never (?:seen|watched)",
    r"not seen", r"(?:no|not a) (?:lot|ton) of", r"no longer than",
]

#: Cues that negate what follows them, up to the end of the clause.
NEGATION_EN = [
    r"anything but", r"everything but", r"all but", r"except(?: for)?", r"other than", r"apart from",
    r"(?:do|does|did|would|will|could)(?:n'?t| not)(?: really| particularly| much| even)?"
    r"(?: like| love| enjoy| want| care for| need| watch| fancy| dig)?",
    r"dont(?: really)?(?: like| love| enjoy| want| care for| watch)?",
    r"won'?t(?: watch)?", r"can'?t stand", r"cannot stand", r"can not stand",
    r"(?:is|are|am|i'?m)(?:n'?t| not)(?: really| too| a big| a huge| the biggest| much| a)?(?: into| fan of| fans of| big on| keen on| interested in)?",
    r"not(?: really| too| a big| a huge| the biggest| much| a)?(?: into| fan of| fans of| big on| keen on| interested in)?",
    r"no more", r"no", r"nothing", r"none", r"never", r"neither", r"nor", r"without", r"avoid(?:ing)?",
    r"skip", r"hat(?:e|es|ed|ing)", r"dislik(?:e|es|ed|ing)", r"detest", r"despise", r"loath(?:e|es)",
    r"sick of", r"tired of", r"fed up with", r"stay away from", r"spare me", r"less", r"too much",
    r"allergic to", r"rather not",
]

#: Cues after a term that negate it ("horror is not my thing").
POST_NEGATION_EN = [
    r"(?:is|are|'s|'re)?(?: just| really)? not (?:really )?(?:my|for me)\b",
    r"(?:isn'?t|aren'?t) (?:really )?(?:my|for me)\b",
    r"not my (?:thing|style|cup of tea|taste|favou?rite|type|genre)",
    r"bores? me", r"(?:is|are) (?:the worst|terrible|awful|boring|overrated|not for me)",
    r"gives? me nightmares", r"(?:is|are) a no",
]

#: Cues that end a negation scope ("I hate musicals and love westerns").
POSITIVE_EN = [
    r"like", r"likes", r"love", r"loves", r"loved", r"enjoy", r"enjoys", r"enjoyed", r"prefer",
    r"preferably", r"want", r"wants", r"adore", r"into", r"fan of", r"looking for", r"fine", r"ok",
    r"okay", r"good", r"great", r"instead", r"rather", r"please", r"maybe", r"also", r"but",
    r"something",
]

NEGATION_ZH = [r"不太喜欢", r"不喜欢", r"不想看", r"不想要", r"不想", r"不要", r"不爱", r"讨厌", r"不看",
               r"受不了", r"除了", r"别", r"没兴趣", r"拒绝", r"不需要"]
POST_NEGATION_ZH = [r"不感兴趣", r"没兴趣", r"就算了", r"免了", r"不行", r"不要"]
POSITIVE_ZH = [r"喜欢", r"爱看", r"想看", r"要", r"可以", r"都行", r"偏好", r"推荐"]

#: Strong clause boundaries (negation never crosses them).
CONTRAST_EN = r"but|however|though|although|whereas|while|instead|yet"
CONTRAST_ZH = r"但是|但|不过|可是|然而"

#: Words a comma-separated list may consist of for a negation to carry across the comma
#: ("no horror, gore or slashers").
LIST_FILLER = {
    "a", "an", "the", "or", "and", "nor", "any", "anything", "too", "very", "much", "stuff",
    "movie", "movies", "film", "films", "please", "either", "etc", "of", "kind", "kinds", "type",
    "types", "sort", "really", "overly", "super", "ones", "things", "thing", "plus", "also",
}

#: Mood / theme words worth keeping as keywords even when no tag spells them.
MOOD_TERMS = [
    "mind-bending", "mind bending", "mindfuck", "dark", "feel-good", "feel good", "uplifting",
    "heartwarming", "thought-provoking", "thought provoking", "twist", "twists", "plot twist",
    "twist ending", "clever", "smart", "quirky", "violent", "violence", "gory", "slow",
    "fast-paced", "fast paced", "inspiring", "inspirational", "sad", "emotional", "atmospheric",
    "visually stunning", "beautiful", "cult", "surreal", "weird", "philosophical",
    "psychological", "time travel", "dystopia", "superhero", "superheroes", "true story",
    "based on a true story", "coming of age", "high school", "zombies", "vampires", "aliens",
    "robots", "space", "heist", "revenge", "disturbing", "intense", "light-hearted",
    "lighthearted", "silly", "gritty", "epic", "dreamlike", "satire", "witty", "cheesy",
    "nostalgic", "realistic", "suspense", "tense", "creepy", "spooky", "cute", "wholesome",
    "romantic", "musical", "bloody", "explicit", "sexual", "sex", "nudity", "swearing",
]

#: Words never taken as keywords on their own (request filler and function words).
STOPWORDS = set("""
a about above after again against all also am an and any anything are aren't as at be because
been before being below between both but by can can't cannot could couldn't did didn't do does
doesn't doing don't down during each else ever every few for from further get gets got had has
have haven't having he her here hers herself him himself his how i i'd i'll i'm i've if in into
is isn't it it's its itself just let's like likes liked love loved loves me might more most
much must my myself no nor not now of off on once only or other ought our ours ourselves out over
own really same she should so some something such than that that's the their theirs them
themselves then there these they this those through to too under until up very want wants
wanted was wasn't we were what when where which while who whom why will with would you your
yours yourself yourselves hi hello hey thanks thank please movie movies film films watch watching
watched looking look recommend recommendation recommendations suggest suggestion suggestions
good great best nice kind type sort some any maybe perhaps prefer preferably enjoy enjoyed
fine ok okay lot lots bit little today tonight night weekend see seen seem think know need
mood feel feeling fan fans favorite favourite genre genres stuff thing things one ones new old
time times way something anything everything nothing someone year years day days recently
well also even still yes yeah sure hmm um oh lol haha can't could've would've should've
""".split())
