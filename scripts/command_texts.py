"""Negative texts for the neural command head: what a person on a mat says that is no command.

Three kinds, all of which the head must answer "none" to: ordinary sentences, sentences that
contain command words ("I'm not ready yet", "don't stop"), and near-miss single words one sound
away from a command ("paws" for pause, "held" for help, "presume" for resume).
"""

from __future__ import annotations

SENTENCES = """
lift your pelvis off the ground and hold
i think i need some water
okay
give me a second
that was hard
my back hurts a little
where is my towel
this is a nice morning
i am going to stretch first
let me get my breath back
the music is too loud
can you turn it down
what time is it
i feel good today
my legs are shaking
that was easier than yesterday
hold on a moment
i need to tie my shoes
my knee feels tight
oh that burns
i'll do one more
let me think about it
the floor is cold
put the mat over there
the phone is ringing
hang on the door bell
i am almost there
nearly there
keep breathing
slowly down
breathe in and out
this one is tough
my arms are tired
look at the time
i should drink more
that feels better
the cat is on the mat
one two three four
five six seven eight
is it raining outside
i forgot my glasses
where did i put my keys
my neck is stiff
i will try again tomorrow
today is a good day
let me move the chair
how about a cup of tea
that's enough for now
can we do something else
i like this exercise
i hate this one
just a little bit longer
almost finished with the set
that was a long one
i am not ready yet
don't stop now keep going
help me up please
when you are done say done
please hold on a second
what is next on the list for today
i can't find the remote
let's go for a walk later
i am done with the dishes
stop the dog from barking
can you repeat the last bit
skip the ads please
don't pause the music
how long until dinner
i need help with the laundry
continue the story later
say again what you said
are you ready for lunch
i'm not done yet
we should stop by the shop
the next bus is at noon
i can hold it a bit longer
yes i think so
no i don't think so
the start was slow
start the car
thanks that was great
good job everyone
hello there
good morning
see you later
how are you doing
i am fine thank you
the weather is nice
turn on the light
turn off the radio
open the window
close the door please
it is too hot in here
i am getting cold
my feet are cold
i need a blanket
where is the remote control
the kettle is boiling
i'll be right back
wait for me
not yet
one more time
let me rest
i am tired
that hurts
ouch
oh no
oh well
hmm
right
alright then
sure
maybe later
i don't know
what did you say
sorry
excuse me
pardon
never mind
it's fine
i'm okay
that's it
here we go
come on
keep it up
nice and slow
up and down
left leg first
now the right side
shoulders back
chin up
tummy in
squeeze your glutes
push through your heels
relax your shoulders
lower your hips slowly
bring your knees together
count to ten
rest your arms by your side
i've got a cramp
my hip is clicking
the baby is crying
the postman is here
i need the bathroom
let me check my phone
the battery is low
is it working
can you hear me
testing testing
what was that noise
that's a funny sound
i love this song
play something else
""".strip().splitlines()

NEAR_MISSES = """
paws
pose
paused
pass
held
hell
helm
yelp
presume
assume
consume
one
won
shop
top
stock
step
nest
neck
text
ready made
red
reddy
steady
daddy
dawn
dumb
gone
fun
ton
cant
can
candle
kent
hold
old
cold
told
skin
skipped
ship
kip
repeal
reap
peat
retreat
how
how wrong
cow long
along
belong
yet
yeah
yes sir
know
nope
note
start it
star
stark
smart
chart
continent
contain
resort
refuse
sing
say
again
finish
finesse
final
ginger
wrestle
relax
request
recede
unready
""".strip().splitlines()

SINGLE_WORDS = """
water towel mat floor chair window door music phone light breath breathe knee hip back leg arm
shoulder neck head foot hand slowly quickly now later today tomorrow morning evening good bad
nice fine okay maybe sure right left up down in out over under here there this that what why
where when who which because although coffee tea dinner lunch breakfast garden kitchen bed sofa
""".split()


def negative_texts() -> list[str]:
    """Every negative text, sentences first; deduplicated, order stable (the pipeline is seeded)."""
    seen: dict[str, None] = {}
    for text in [*SENTENCES, *NEAR_MISSES, *SINGLE_WORDS]:
        seen.setdefault(text.strip(), None)
    return [t for t in seen if t]


def kind_of(text: str) -> str:
    """"sentence", "near_miss" or "word" (for per-kind false-trigger rates)."""
    if text in NEAR_MISSES:
        return "near_miss"
    if text in SINGLE_WORDS:
        return "word"
    return "sentence"
